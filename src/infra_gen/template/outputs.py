"""The stack's contract: Outputs for people and, exported, for other stacks.

An Output is exported only when no Parameter changes its value: CloudFormation refuses
to change an exported value that another stack imports. A URL that a certificate given
at deploy time turns from ``http://`` into ``https://`` is not exported (the load
balancer's DNS name is); a URL fixed at generation time (governed, a domain) is.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Export, GetAtt, If, Join, Output, Sub, Template

from . import ids
from .cloudmap import Discovery
from .loadbalancer import LoadBalancer
from .service import Service

__all__ = ["Outputs", "ServiceOutputs", "add_outputs", "add_service_outputs", "request_path"]

# Each service Stack.add_service adds has these three, prefixed with its scope.
SCOPED = (ids.Outputs.SERVICE_URL, ids.Outputs.SERVICE_NAME, ids.Outputs.DISCOVERY_NAME)


@dataclass(frozen=True, eq=False)
class Outputs:
    """The exported Outputs (export name ``<stack name>-<output name>``).

    The dashboard's URL is the dashboard concern's: :attr:`Dashboard.url`.
    """

    service_url: Output
    """``ServiceUrl``: the public URL, https when a certificate is given; ``https://<name>``
    with a domain. Not exported while ``CertificateArn`` can change its scheme."""
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


@dataclass(frozen=True, eq=False)
class ServiceOutputs:
    """The exported Outputs of a service :meth:`infra_gen.Stack.add_service` added.

    Their IDs are prefixed with its scope (export name ``<stack name>-<output name>``).
    """

    service_url: Output | None
    """``<scope>ServiceUrl``: the public URL of its path (:func:`request_path`), e.g.
    ``http://<load balancer DNS name>/api/``; https when the first service's is, and
    exported when the first service's is."""
    service_name: Output
    """``<scope>ServiceName``: its ECS service."""
    discovery_name: Output
    """``<scope>DiscoveryName``: the name that resolves to its tasks inside the VPC."""


def request_path(path_pattern: str) -> str:
    """A path that a listener rule's ``path_pattern`` matches, to request it by.

    Each ``*`` (any characters) matches none, each ``?`` (one character) matches ``x``:
    ``/api/*`` -> ``/api/``, ``/a?c/*`` -> ``/axc/``, ``/*.png`` -> ``/.png``; a pattern
    without wildcards is the path itself.
    """
    return path_pattern.replace("*", "").replace("?", "x")


def export_name(name: str) -> Sub:
    """The export name of Output ``name``: ``<stack name>-<name>``."""
    return Sub("${AWS::StackName}-" + name)


def _output(
    t: Template, name: str, description: str, value: object, *, exported: bool = True
) -> Output:
    return t.add_output(
        Output(
            name,
            Description=description,
            Value=value,
            **({"Export": Export(export_name(name))} if exported else {}),
        )
    )


def add_outputs(
    t: Template, *, load_balancer: LoadBalancer, service: Service, discovery: Discovery
) -> Outputs:
    """Add the stack's exported Outputs; the last step of the documented order.

    Args:
        t: the template it adds to.
        load_balancer: its URL and DNS name.
        service: the cluster's and the service's names.
        discovery: the namespace and the name that resolves to the tasks.

    Returns:
        The Outputs' handle.

    Template cost: about 1.3 KB of compact JSON.
    """
    dns = GetAtt(load_balancer.load_balancer, "DNSName")
    return Outputs(
        service_url=_output(
            t,
            ids.Outputs.SERVICE_URL,
            "Public URL of the nginx service",
            _url(load_balancer),
            exported=load_balancer.https_only,
        ),
        load_balancer_dns_name=_output(
            t, ids.Outputs.LOAD_BALANCER_DNS, "DNS name of the load balancer", dns
        ),
        cluster_name=_output(t, ids.Outputs.CLUSTER_NAME, "ECS cluster", service.cluster.ref()),
        service_name=_output(
            t, ids.Outputs.SERVICE_NAME, "ECS service", GetAtt(service.service, "Name")
        ),
        namespace_name=_output(
            t,
            ids.Outputs.NAMESPACE_NAME,
            "Cloud Map private DNS namespace",
            discovery.namespace_name,
        ),
        namespace_id=_output(
            t, ids.Outputs.NAMESPACE_ID, "Cloud Map namespace ID", discovery.namespace.ref()
        ),
        discovery_name=_output(
            t,
            ids.Outputs.DISCOVERY_NAME,
            "Name that resolves to the tasks inside the VPC",
            discovery.dns_name,
        ),
    )


def add_service_outputs(
    t: Template,
    *,
    scope: str,
    load_balancer: LoadBalancer,
    service: Service,
    discovery: Discovery,
    path_pattern: str | None,
) -> ServiceOutputs:
    """Add the exported Outputs of another service: its URL, ECS service, Cloud Map name.

    Descriptions stay short, for the size budget.

    Args:
        t: the template it adds to.
        scope: prefix of their logical IDs.
        load_balancer: the load balancer the URL is on.
        service: the other service.
        discovery: its Cloud Map service.
        path_pattern: its listener rule's pattern; the URL ends in a path it matches.
            ``None`` for a service without a route: no URL.

    Returns:
        The three Outputs' handle.
    """
    return ServiceOutputs(
        service_url=None
        if path_pattern is None
        else _output(
            t,
            scope + ids.Outputs.SERVICE_URL,
            f"{scope} URL",
            _url(load_balancer, request_path(path_pattern)),
            exported=load_balancer.https_only,
        ),
        service_name=_output(
            t,
            scope + ids.Outputs.SERVICE_NAME,
            f"{scope} ECS service",
            GetAtt(service.service, "Name"),
        ),
        discovery_name=_output(
            t, scope + ids.Outputs.DISCOVERY_NAME, f"{scope} Cloud Map name", discovery.dns_name
        ),
    )


def _url(load_balancer: LoadBalancer, path: str = "") -> Join | str:
    """The service's URL, with ``path`` when given: ``https://<name>`` with a domain, else
    the load balancer's (https when a certificate is given, or always when governed)."""
    if load_balancer.domain is not None:
        return f"https://{load_balancer.domain.name}{path}"
    dns = GetAtt(load_balancer.load_balancer, "DNSName")
    scheme: object = (
        "https"
        if load_balancer.https_only
        else If(ids.LoadBalancer.HAS_CERTIFICATE, "https", "http")
    )
    parts = [scheme, "://", dns]
    if path:
        parts.append(path)
    return Join("", parts)
