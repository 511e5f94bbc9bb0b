"""The stack's contract: Outputs for people and, exported, for other stacks."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Export, GetAtt, If, Join, Output, Sub, Template

from .cloudmap import Discovery
from .ecs import Service
from .loadbalancer import HAS_CERTIFICATE, LoadBalancer

__all__ = ["Outputs", "add_outputs"]

SERVICE_URL = "ServiceUrl"
LOAD_BALANCER_DNS = "LoadBalancerDnsName"
CLUSTER_NAME = "ClusterName"
SERVICE_NAME = "ServiceName"
NAMESPACE_NAME = "NamespaceName"
NAMESPACE_ID = "NamespaceId"
DISCOVERY_NAME = "DiscoveryName"


@dataclass(frozen=True, eq=False)
class Outputs:
    """The exported Outputs (export name ``<stack name>-<output name>``).

    The dashboard's URL is the dashboard concern's: :attr:`Dashboard.url`.
    """

    service_url: Output
    """``ServiceUrl``: the public URL, https when a certificate is given."""
    load_balancer_dns_name: Output
    """``LoadBalancerDnsName``: the load balancer's DNS name."""
    cluster_name: Output
    """``ClusterName``: the ECS cluster."""
    service_name: Output
    """``ServiceName``: the ECS service."""
    namespace_name: Output
    """``NamespaceName``: the Cloud Map private DNS namespace."""
    namespace_id: Output
    """``NamespaceId``: the Cloud Map namespace's ID."""
    discovery_name: Output
    """``DiscoveryName``: the name that resolves to the tasks inside the VPC."""


def _output(t: Template, name: str, description: str, value: object) -> Output:
    return t.add_output(
        Output(
            name,
            Description=description,
            Value=value,
            Export=Export(Sub("${AWS::StackName}-" + name)),
        )
    )


def add_outputs(
    t: Template, *, load_balancer: LoadBalancer, service: Service, discovery: Discovery
) -> Outputs:
    """Add the stack's exported Outputs; the last step of the documented order."""
    dns = GetAtt(load_balancer.load_balancer, "DNSName")
    scheme: object = "https" if load_balancer.https_only else If(HAS_CERTIFICATE, "https", "http")
    return Outputs(
        service_url=_output(
            t, SERVICE_URL, "Public URL of the nginx service", Join("", [scheme, "://", dns])
        ),
        load_balancer_dns_name=_output(t, LOAD_BALANCER_DNS, "DNS name of the load balancer", dns),
        cluster_name=_output(t, CLUSTER_NAME, "ECS cluster", service.cluster.ref()),
        service_name=_output(t, SERVICE_NAME, "ECS service", GetAtt(service.service, "Name")),
        namespace_name=_output(
            t, NAMESPACE_NAME, "Cloud Map private DNS namespace", discovery.namespace_name
        ),
        namespace_id=_output(t, NAMESPACE_ID, "Cloud Map namespace ID", discovery.namespace.ref()),
        discovery_name=_output(
            t, DISCOVERY_NAME, "Name that resolves to the tasks inside the VPC", discovery.dns_name
        ),
    )
