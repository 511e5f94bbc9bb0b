"""Cloud Map: a private DNS namespace in the VPC and the service the tasks register in.

Inside the VPC, ``<service>.<namespace>`` resolves to the A records of the
healthy tasks (multivalue answers, up to eight per query).
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Join, Template, servicediscovery

from ..config import Config
from . import ids
from .network import Network

__all__ = ["Discovery", "add_discovery"]


@dataclass(frozen=True, eq=False)
class Discovery:
    """Cloud Map: the private DNS namespace and the service the tasks register in."""

    namespace: servicediscovery.PrivateDnsNamespace
    """The private DNS namespace in the VPC."""
    service: servicediscovery.Service
    """The Cloud Map service (A records, multivalue) the ECS service registers tasks in."""

    def add_service(self, t: Template, *, scope: str, name: str, dns_ttl: int) -> Discovery:
        """Add another Cloud Map service ``name`` in the same namespace.

        Args:
            t: the template it adds to.
            scope: prefix of its logical ID.
            name: its DNS label, e.g. ``api``.
            dns_ttl: seconds its A records are cached.

        Returns:
            A handle naming the new service, in the same namespace.
        """
        service = t.add_resource(
            _service(
                scope + ids.Discovery.SERVICE,
                name,
                self.namespace,
                dns_ttl,
                f"Tasks of the ECS service {name}",
            )
        )
        return Discovery(namespace=self.namespace, service=service)

    @property
    def service_name(self) -> GetAtt:
        """The Cloud Map service's name, as a ``GetAtt``."""
        return GetAtt(self.service, "Name")

    @property
    def namespace_name(self) -> str:
        """The namespace's DNS name, e.g. ``infra-gen.internal``."""
        # PrivateDnsNamespace has no Name attribute; the name is fixed at generation time.
        return str(self.namespace.Name)

    @property
    def dns_name(self) -> Join:
        """The name clients resolve: ``<service>.<namespace>``."""
        return Join(".", [self.service_name, self.namespace_name])


def add_discovery(t: Template, cfg: Config, *, network: Network) -> Discovery:
    """Add the namespace in the VPC and the service the tasks register in.

    Args:
        t: the template it adds to.
        cfg: reads ``[discovery]`` and ``service.name``.
        network: the VPC the namespace resolves in.

    Returns:
        The Cloud Map handle.
    """
    namespace = t.add_resource(
        servicediscovery.PrivateDnsNamespace(
            ids.Discovery.NAMESPACE,
            Name=cfg.discovery.namespace,
            Vpc=network.vpc_id,
            Description="Service discovery for the stack's services",
        )
    )
    description = "nginx tasks of the ECS service"
    service = t.add_resource(
        _service(
            ids.Discovery.SERVICE, cfg.service.name, namespace, cfg.discovery.dns_ttl, description
        )
    )
    return Discovery(namespace=namespace, service=service)


def _service(
    logical_id: str,
    name: str,
    namespace: servicediscovery.PrivateDnsNamespace,
    dns_ttl: int,
    description: str,
) -> servicediscovery.Service:
    return servicediscovery.Service(
        logical_id,
        Name=name,
        NamespaceId=namespace.ref(),
        Description=description,
        DnsConfig=servicediscovery.DnsConfig(
            # awsvpc tasks register their own IP: A records, every healthy one answered.
            RoutingPolicy="MULTIVALUE",
            DnsRecords=[servicediscovery.DnsRecord(Type="A", TTL=dns_ttl)],
        ),
        # ECS reports task health to Cloud Map; unhealthy tasks leave the answers.
        HealthCheckCustomConfig=servicediscovery.HealthCheckCustomConfig(FailureThreshold=1),
    )
