"""The stack's logical IDs, by concern: public API.

Renaming a resource's logical ID makes CloudFormation replace the live resource
(and delete the old one); renaming a Parameter breaks ``--parameter-overrides``
and renaming an Output breaks the stacks that import it. Extend a built template
through these names (or, better, through the handles of :func:`build_stack`)::

    from infra_gen import build_template, ids
    t = build_template()
    group = t.resources[ids.Service.SECURITY_GROUP]

Each name is declared here once; the concern modules read it from here.
Names with ``{}`` are formats taking the 1-based subnet number.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "Alarms",
    "Boundary",
    "Dashboard",
    "Discovery",
    "Domain",
    "LoadBalancer",
    "Logs",
    "Network",
    "Outputs",
    "Probe",
    "Scaling",
    "Service",
]


class Logs:
    """Log settings shared by every log group."""

    LOG_RETENTION: Final = "LogRetentionDays"  # Parameter
    LOGS_KEY: Final = "LogsKey"  # with security.kms_logs


class Network:
    """The VPC and its public subnets."""

    VPC: Final = "NetworkVpc"
    INTERNET_GATEWAY: Final = "NetworkInternetGateway"
    GATEWAY_ATTACHMENT: Final = "NetworkGatewayAttachment"
    ROUTE_TABLE: Final = "NetworkPublicRouteTable"
    DEFAULT_ROUTE: Final = "NetworkPublicDefaultRoute"
    SUBNET: Final = "NetworkPublicSubnet{}"
    SUBNET_ROUTE_TABLE: Final = "NetworkPublicSubnet{}RouteTableAssociation"
    FLOW_LOG: Final = "NetworkFlowLog"  # with security.flow_logs, as the next two
    FLOW_LOG_GROUP: Final = "NetworkFlowLogGroup"
    FLOW_LOG_ROLE: Final = "NetworkFlowLogRole"
    PRIVATE_SUBNET: Final = "NetworkPrivateSubnet{}"  # governed, as the five that follow
    PRIVATE_SUBNET_ROUTE_TABLE: Final = "NetworkPrivateSubnet{}RouteTableAssociation"
    PRIVATE_ROUTE_TABLE: Final = "NetworkPrivateRouteTable{}"
    PRIVATE_DEFAULT_ROUTE: Final = "NetworkPrivateDefaultRoute{}"
    # with nat_gateways = "one", only number 1 of the gateway, its address, the
    # private route table and its route
    NAT_GATEWAY: Final = "NetworkNatGateway{}"
    NAT_ADDRESS: Final = "NetworkNatGatewayEip{}"
    # network.vpc_id = "parameter": an existing VPC's IDs at deploy time (Parameters).
    VPC_ID: Final = "VpcId"
    PUBLIC_SUBNET_IDS: Final = "PublicSubnetIds"
    PRIVATE_SUBNET_IDS: Final = "PrivateSubnetIds"  # governed


class Boundary:
    """The optional permissions boundary of every role."""

    PERMISSIONS_BOUNDARY: Final = "PermissionsBoundaryArn"  # Parameter
    HAS_PERMISSIONS_BOUNDARY: Final = "HasBoundary"  # Condition


class LoadBalancer:
    """The Application Load Balancer."""

    SECURITY_GROUP: Final = "LoadBalancerSecurityGroup"
    HTTP_INGRESS: Final = "LoadBalancerHttpIngress"
    HTTPS_INGRESS: Final = "LoadBalancerHttpsIngress"
    LOAD_BALANCER: Final = "LoadBalancer"
    TARGET_GROUP: Final = "LoadBalancerTargetGroup"
    HTTP_LISTENER: Final = "LoadBalancerHttpListener"
    HTTPS_LISTENER: Final = "LoadBalancerHttpsListener"
    ACCESS_LOG_BUCKET: Final = "LoadBalancerAccessLogBucket"  # with security.alb_access_logs
    ACCESS_LOG_BUCKET_POLICY: Final = "LoadBalancerAccessLogBucketPolicy"
    CERTIFICATE_ARN: Final = "CertificateArn"  # Parameter
    DELETION_PROTECTION: Final = "DeletionProtection"  # Parameter, not governed
    HAS_CERTIFICATE: Final = "HasCertificate"  # Condition, not governed
    # With service.deployment canary or linear, as the next; under a scope, another
    # service's path.
    RULE: Final = "LoadBalancerRule"
    ALTERNATE_TARGET_GROUP: Final = "LoadBalancerAlternateTargetGroup"


class Domain:
    """The service's own DNS name (``[domain]``): its certificate and alias record."""

    CERTIFICATE: Final = "DomainCertificate"  # unless domain.certificate_arn is given
    ALIAS_RECORD: Final = "DomainAliasRecord"


class Discovery:
    """Cloud Map."""

    NAMESPACE: Final = "DiscoveryNamespace"
    SERVICE: Final = "DiscoveryService"


class Service:
    """The ECS cluster and the nginx service."""

    CLUSTER: Final = "EcsCluster"
    LOG_GROUP: Final = "EcsServiceLogGroup"
    EXECUTION_ROLE: Final = "EcsTaskExecutionRole"
    TASK_ROLE: Final = "EcsTaskRole"
    TASK_DEFINITION: Final = "EcsTaskDefinition"
    SECURITY_GROUP: Final = "EcsServiceSecurityGroup"
    INGRESS_FROM_LOAD_BALANCER: Final = "EcsServiceIngressFromLoadBalancer"
    LOAD_BALANCER_EGRESS: Final = "EcsLoadBalancerEgressToService"
    SERVICE: Final = "EcsService"
    IMAGE: Final = "ServiceImage"  # Parameter
    TASK_SIZE: Final = "TaskSize"  # Parameter
    PRIVATE_ECR_IMAGE: Final = "IsPrivateEcrImage"  # Condition
    LOAD_BALANCER_ROLE: Final = "EcsLoadBalancerRole"  # a canary or linear service's


class Scaling:
    """Auto scaling of the service's task count."""

    TARGET: Final = "ScalingTarget"
    CPU_POLICY: Final = "ScalingCpuPolicy"
    REQUESTS_POLICY: Final = "ScalingRequestsPolicy"
    MIN_TASKS: Final = "MinTasks"  # Parameter
    MAX_TASKS: Final = "MaxTasks"  # Parameter


class Probe:
    """The scheduled probe function."""

    SCHEDULE: Final = "ProbeSchedule"  # Parameter
    LOG_GROUP: Final = "ProbeLogGroup"
    ROLE: Final = "ProbeRole"
    SECURITY_GROUP: Final = "ProbeSecurityGroup"
    SERVICE_INGRESS: Final = "ProbeServiceIngress"
    SERVICE_EGRESS: Final = "ProbeEgressToService"
    FUNCTION: Final = "ProbeFunction"
    INVOKE_CONFIG: Final = "ProbeInvokeConfig"
    RULE: Final = "ProbeScheduleRule"
    PERMISSION: Final = "ProbeInvokePermission"


class Alarms:
    """The alarm topic and the stack's alarms."""

    TOPIC: Final = "AlarmTopic"
    TOPIC_POLICY: Final = "AlarmTopicPolicy"
    EMAIL: Final = "AlarmEmail"  # Parameter
    HAS_EMAIL: Final = "HasAlarmEmail"  # Condition
    SUBSCRIPTION: Final = "AlarmEmailSubscription"
    PROBE_FAILED_REQUESTS: Final = "AlarmProbeFailedRequests"
    PROBE_NO_INSTANCES: Final = "AlarmProbeNoInstances"
    PROBE_NOT_RUNNING: Final = "AlarmProbeNotRunning"
    PROBE_ERRORS: Final = "AlarmProbeErrors"
    PROBE_THROTTLES: Final = "AlarmProbeThrottles"
    LOAD_BALANCER_5XX: Final = "AlarmLoadBalancer5xx"
    TARGET_5XX: Final = "AlarmTarget5xx"
    UNHEALTHY_TARGETS: Final = "AlarmUnhealthyTargets"
    RESPONSE_TIME: Final = "AlarmResponseTime"
    RUNNING_TASKS: Final = "AlarmRunningTasks"
    SERVICE_CPU: Final = "AlarmServiceCpu"
    SERVICE_MEMORY: Final = "AlarmServiceMemory"


class Dashboard:
    """The CloudWatch dashboard."""

    DASHBOARD: Final = "Dashboard"
    DASHBOARD_URL: Final = "DashboardUrl"  # Output


class Outputs:
    """The exported Outputs (export name ``<stack name>-<output>``)."""

    SERVICE_URL: Final = "ServiceUrl"
    LOAD_BALANCER_DNS: Final = "LoadBalancerDnsName"
    CLUSTER_NAME: Final = "ClusterName"
    SERVICE_NAME: Final = "ServiceName"
    NAMESPACE_NAME: Final = "NamespaceName"
    NAMESPACE_ID: Final = "NamespaceId"
    DISCOVERY_NAME: Final = "DiscoveryName"


class ArtifactStack:
    """The artifact bucket's own stack (``--resolve-s3``), a template apart from the
    stack's: :func:`infra_gen.template.artifacts.artifact_template` builds it."""

    STACK_NAME: Final = "infra-gen-artifacts"  # the stack, one per account and Region
    BUCKET: Final = "ArtifactBucket"
    BUCKET_POLICY: Final = "ArtifactBucketPolicy"
    BUCKET_NAME: Final = "BucketName"  # Output
