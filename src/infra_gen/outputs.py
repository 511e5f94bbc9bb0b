"""The stack's contract: Outputs for people and, exported, for other stacks."""

from __future__ import annotations

from troposphere import Export, GetAtt, If, Join, Output, Sub, Template

from .cloudmap import Discovery
from .ecs import Service
from .loadbalancer import HAS_CERTIFICATE, LoadBalancer

__all__ = ["add_outputs"]

SERVICE_URL = "ServiceUrl"
LOAD_BALANCER_DNS = "LoadBalancerDnsName"
CLUSTER_NAME = "ClusterName"
SERVICE_NAME = "ServiceName"
NAMESPACE_NAME = "NamespaceName"
NAMESPACE_ID = "NamespaceId"
DISCOVERY_NAME = "DiscoveryName"
VPC_ID = "VpcId"


def _output(t: Template, name: str, description: str, value: object) -> None:
    t.add_output(
        Output(
            name,
            Description=description,
            Value=value,
            Export=Export(Sub("${AWS::StackName}-" + name)),
        )
    )


def add_outputs(
    t: Template, *, load_balancer: LoadBalancer, service: Service, discovery: Discovery
) -> None:
    dns = GetAtt(load_balancer.load_balancer, "DNSName")
    scheme = If(HAS_CERTIFICATE, "https", "http")
    _output(t, SERVICE_URL, "Public URL of the nginx service", Join("", [scheme, "://", dns]))
    _output(t, LOAD_BALANCER_DNS, "DNS name of the load balancer", dns)
    _output(t, CLUSTER_NAME, "ECS cluster", service.cluster.ref())
    _output(t, SERVICE_NAME, "ECS service", GetAtt(service.service, "Name"))
    _output(t, NAMESPACE_NAME, "Cloud Map private DNS namespace", discovery.namespace_name)
    _output(t, NAMESPACE_ID, "Cloud Map namespace ID", discovery.namespace.ref())
    _output(t, DISCOVERY_NAME, "Name that resolves to the tasks inside the VPC", discovery.dns_name)
