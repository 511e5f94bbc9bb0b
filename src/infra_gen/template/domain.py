"""The service's own DNS name (``[domain]``): its certificate and its alias record.

CloudFormation requests the ACM certificate and, because the certificate names the
hosted zone (``DomainValidationOptions``), writes the validation record in that zone
and waits until ACM issues it; the alias record points the name at the load balancer.
The load balancer's HTTPS listener serves the certificate (:mod:`.loadbalancer`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from troposphere import GetAtt, Ref, Template, certificatemanager, route53
from troposphere import elasticloadbalancingv2 as elb

from ..config import DomainConfig
from . import ids

__all__ = ["Domain", "add_alias", "add_certificate"]


@dataclass(frozen=True, eq=False)
class Domain:
    """The domain name of the service, the certificate its HTTPS listener serves, and the
    alias record that points the name at the load balancer."""

    name: str
    """The name, e.g. ``www.example.com``."""
    certificate: certificatemanager.Certificate | None
    """The certificate the stack requests; ``None`` with ``domain.certificate_arn``."""
    certificate_arn: Ref | str
    """What the HTTPS listener serves: the stack's certificate by ``Ref``, or the ARN of
    a certificate made elsewhere."""
    alias: route53.RecordSetType | None = None
    """The alias A record in the hosted zone; set by :func:`add_alias`."""


def add_certificate(t: Template, cfg: DomainConfig) -> Domain:
    """Add the certificate of ``cfg.name``, validated in DNS, unless one is given.

    Args:
        t: the template it adds to.
        cfg: the ``[domain]`` settings, with a name.

    Returns:
        The domain's handle, without its alias record yet.

    Template cost: about 250 bytes of compact JSON; none with ``certificate_arn``.
    """
    if cfg.certificate_arn:
        return Domain(name=cfg.name, certificate=None, certificate_arn=cfg.certificate_arn)
    certificate = t.add_resource(
        certificatemanager.Certificate(
            ids.Domain.CERTIFICATE,
            DomainName=cfg.name,
            ValidationMethod="DNS",
            # With the zone, CloudFormation writes the validation record itself and the
            # resource completes once ACM has issued the certificate.
            DomainValidationOptions=[
                certificatemanager.DomainValidationOption(
                    DomainName=cfg.name, HostedZoneId=cfg.hosted_zone_id
                )
            ],
        )
    )
    return Domain(name=cfg.name, certificate=certificate, certificate_arn=certificate.ref())


def add_alias(
    t: Template, cfg: DomainConfig, domain: Domain, load_balancer: elb.LoadBalancer
) -> Domain:
    """Add the alias A record that points ``cfg.name`` at ``load_balancer``.

    An A record only: the load balancer is IPv4 (no ``IpAddressType``), so an AAAA alias
    would answer nothing. An alias record may be the zone's apex.

    Args:
        t: the template it adds to.
        cfg: the ``[domain]`` settings, with a name and a hosted zone.
        domain: the handle :func:`add_certificate` returned.
        load_balancer: the Application Load Balancer the name points at.

    Returns:
        ``domain`` with its alias record.
    """
    record = t.add_resource(
        route53.RecordSetType(
            ids.Domain.ALIAS_RECORD,
            HostedZoneId=cfg.hosted_zone_id,
            Name=cfg.name,
            Type="A",
            AliasTarget=route53.AliasTarget(
                HostedZoneId=GetAtt(load_balancer, "CanonicalHostedZoneID"),
                DNSName=GetAtt(load_balancer, "DNSName"),
            ),
        )
    )
    return replace(domain, alias=record)
