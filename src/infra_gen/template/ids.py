"""The stack's logical IDs, by concern: public API.

Renaming a resource's logical ID makes CloudFormation replace the live resource
(and delete the old one); renaming a Parameter breaks ``--parameter-overrides``
and renaming an Output breaks the stacks that import it. Extend a built template
through these names (or, better, through the handles of :func:`build_stack`)::

    from infra_gen import build_template, ids
    t = build_template()
    group = t.resources[ids.Service.SECURITY_GROUP]

Each constant is defined in its concern's module; this module only gathers them.
Names with ``{}`` are formats taking the 1-based subnet number.
"""

from __future__ import annotations

from typing import Final

from . import alarms, boundary, cloudmap, dashboard, ecs, loadbalancer, loggroups, network, outputs
from . import probe as _probe
from . import scaling as _scaling

__all__ = [
    "Alarms", "Boundary", "Dashboard", "Discovery", "LoadBalancer", "Logs", "Network", "Outputs",
    "Probe", "Scaling", "Service",
]  # fmt: skip


class Logs:
    """Log settings shared by every log group."""

    LOG_RETENTION: Final = loggroups.LOG_RETENTION  # Parameter
    LOGS_KEY: Final = loggroups.LOGS_KEY  # with security.kms_logs


class Network:
    """The VPC and its public subnets."""

    VPC: Final = network.VPC
    INTERNET_GATEWAY: Final = network.INTERNET_GATEWAY
    GATEWAY_ATTACHMENT: Final = network.GATEWAY_ATTACHMENT
    ROUTE_TABLE: Final = network.ROUTE_TABLE
    DEFAULT_ROUTE: Final = network.DEFAULT_ROUTE
    SUBNET: Final = network.SUBNET
    SUBNET_ROUTE_TABLE: Final = network.SUBNET_ROUTE_TABLE
    FLOW_LOG: Final = network.FLOW_LOG  # with security.flow_logs, as the next two
    FLOW_LOG_GROUP: Final = network.FLOW_LOG_GROUP
    FLOW_LOG_ROLE: Final = network.FLOW_LOG_ROLE
    PRIVATE_SUBNET: Final = network.PRIVATE_SUBNET  # governed, as the five that follow
    PRIVATE_SUBNET_ROUTE_TABLE: Final = network.PRIVATE_SUBNET_ROUTE_TABLE
    PRIVATE_ROUTE_TABLE: Final = network.PRIVATE_ROUTE_TABLE
    PRIVATE_DEFAULT_ROUTE: Final = network.PRIVATE_DEFAULT_ROUTE
    NAT_GATEWAY: Final = network.NAT_GATEWAY
    NAT_ADDRESS: Final = network.NAT_ADDRESS


class Boundary:
    """The optional permissions boundary of every role."""

    PERMISSIONS_BOUNDARY: Final = boundary.PERMISSIONS_BOUNDARY  # Parameter
    HAS_PERMISSIONS_BOUNDARY: Final = boundary.HAS_PERMISSIONS_BOUNDARY  # Condition


class LoadBalancer:
    """The Application Load Balancer."""

    SECURITY_GROUP: Final = loadbalancer.SECURITY_GROUP
    HTTP_INGRESS: Final = loadbalancer.HTTP_INGRESS
    HTTPS_INGRESS: Final = loadbalancer.HTTPS_INGRESS
    LOAD_BALANCER: Final = loadbalancer.LOAD_BALANCER
    TARGET_GROUP: Final = loadbalancer.TARGET_GROUP
    HTTP_LISTENER: Final = loadbalancer.HTTP_LISTENER
    HTTPS_LISTENER: Final = loadbalancer.HTTPS_LISTENER
    ACCESS_LOG_BUCKET: Final = loadbalancer.ACCESS_LOG_BUCKET  # with security.alb_access_logs
    ACCESS_LOG_BUCKET_POLICY: Final = loadbalancer.ACCESS_LOG_BUCKET_POLICY
    CERTIFICATE_ARN: Final = loadbalancer.CERTIFICATE_ARN  # Parameter
    DELETION_PROTECTION: Final = loadbalancer.DELETION_PROTECTION  # Parameter, not governed
    HAS_CERTIFICATE: Final = loadbalancer.HAS_CERTIFICATE  # Condition, not governed


class Discovery:
    """Cloud Map."""

    NAMESPACE: Final = cloudmap.NAMESPACE
    SERVICE: Final = cloudmap.SERVICE


class Service:
    """The ECS cluster and the nginx service."""

    CLUSTER: Final = ecs.CLUSTER
    LOG_GROUP: Final = ecs.LOG_GROUP
    EXECUTION_ROLE: Final = ecs.EXECUTION_ROLE
    TASK_ROLE: Final = ecs.TASK_ROLE
    TASK_DEFINITION: Final = ecs.TASK_DEFINITION
    SECURITY_GROUP: Final = ecs.SECURITY_GROUP
    INGRESS_FROM_LOAD_BALANCER: Final = ecs.INGRESS_FROM_LOAD_BALANCER
    LOAD_BALANCER_EGRESS: Final = ecs.LOAD_BALANCER_EGRESS
    SERVICE: Final = ecs.SERVICE
    IMAGE: Final = ecs.IMAGE  # Parameter
    TASK_SIZE: Final = ecs.TASK_SIZE  # Parameter
    PRIVATE_ECR_IMAGE: Final = ecs.PRIVATE_ECR_IMAGE  # Condition


class Scaling:
    """Auto scaling of the service's task count."""

    TARGET: Final = _scaling.TARGET
    CPU_POLICY: Final = _scaling.CPU_POLICY
    REQUESTS_POLICY: Final = _scaling.REQUESTS_POLICY
    MIN_TASKS: Final = _scaling.MIN_TASKS  # Parameter
    MAX_TASKS: Final = _scaling.MAX_TASKS  # Parameter


class Probe:
    """The scheduled probe function."""

    SCHEDULE: Final = _probe.SCHEDULE  # Parameter
    LOG_GROUP: Final = _probe.LOG_GROUP
    ROLE: Final = _probe.ROLE
    SECURITY_GROUP: Final = _probe.SECURITY_GROUP
    SERVICE_INGRESS: Final = _probe.SERVICE_INGRESS
    SERVICE_EGRESS: Final = _probe.SERVICE_EGRESS
    FUNCTION: Final = _probe.FUNCTION
    INVOKE_CONFIG: Final = _probe.INVOKE_CONFIG
    RULE: Final = _probe.RULE
    PERMISSION: Final = _probe.PERMISSION


class Alarms:
    """The alarm topic and the stack's alarms."""

    TOPIC: Final = alarms.TOPIC
    TOPIC_POLICY: Final = alarms.TOPIC_POLICY
    EMAIL: Final = alarms.EMAIL  # Parameter
    HAS_EMAIL: Final = alarms.HAS_EMAIL  # Condition
    SUBSCRIPTION: Final = alarms.SUBSCRIPTION
    PROBE_FAILED_REQUESTS: Final = alarms.PROBE_FAILED_REQUESTS
    PROBE_NO_INSTANCES: Final = alarms.PROBE_NO_INSTANCES
    PROBE_NOT_RUNNING: Final = alarms.PROBE_NOT_RUNNING
    PROBE_ERRORS: Final = alarms.PROBE_ERRORS
    PROBE_THROTTLES: Final = alarms.PROBE_THROTTLES
    LOAD_BALANCER_5XX: Final = alarms.LOAD_BALANCER_5XX
    TARGET_5XX: Final = alarms.TARGET_5XX
    UNHEALTHY_TARGETS: Final = alarms.UNHEALTHY_TARGETS
    RESPONSE_TIME: Final = alarms.RESPONSE_TIME
    RUNNING_TASKS: Final = alarms.RUNNING_TASKS
    SERVICE_CPU: Final = alarms.SERVICE_CPU
    SERVICE_MEMORY: Final = alarms.SERVICE_MEMORY


class Dashboard:
    """The CloudWatch dashboard."""

    DASHBOARD: Final = dashboard.DASHBOARD
    DASHBOARD_URL: Final = dashboard.DASHBOARD_URL  # Output


class Outputs:
    """The exported Outputs (export name ``<stack name>-<output>``)."""

    SERVICE_URL: Final = outputs.SERVICE_URL
    LOAD_BALANCER_DNS: Final = outputs.LOAD_BALANCER_DNS
    CLUSTER_NAME: Final = outputs.CLUSTER_NAME
    SERVICE_NAME: Final = outputs.SERVICE_NAME
    NAMESPACE_NAME: Final = outputs.NAMESPACE_NAME
    NAMESPACE_ID: Final = outputs.NAMESPACE_ID
    DISCOVERY_NAME: Final = outputs.DISCOVERY_NAME
