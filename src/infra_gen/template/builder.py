"""The one place that calls the concerns, in dependency order.

:func:`build_stack` returns the template with every concern's handle;
:func:`build_template` the template alone. The documented order, which other
generators may follow call by call (``build_stack`` is exactly this)::

    t = new_template(cfg)
    log_settings = add_log_settings(t, cfg)
    network = add_network(t, cfg, log_settings=log_settings)
    load_balancer = add_load_balancer(t, cfg, network=network)
    discovery = add_discovery(t, cfg, network=network)
    service = add_service(t, cfg, network=..., load_balancer=..., discovery=...,
                          log_settings=...)
    scaling = add_scaling(t, cfg, service=service, load_balancer=load_balancer)
    probe = add_probe(t, cfg, network=..., discovery=..., service=..., log_settings=...)
    alarms = add_alarms(t, cfg, load_balancer=..., service=..., probe=probe)
    dashboard = add_dashboard(t, load_balancer=..., service=..., probe=probe)
    outputs = add_outputs(t, load_balancer=..., service=..., discovery=...)
    boundary = add_permissions_boundary(t)  # last: it reaches every role

Concerns that do not depend on each other may come in either order with the same
bytes: the load balancer and discovery; scaling, the probe and the outputs (once
the service exists); the alarms and the dashboard (once the probe exists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from troposphere import Template

from .._version import __version__
from ..config import Config, ConfigError
from ..config.sections import VPC_HOST
from .alarms import add_alarms
from .boundary import add_permissions_boundary
from .cloudmap import add_discovery
from .compose import into_host
from .dashboard import add_dashboard
from .loadbalancer import add_load_balancer
from .loggroups import add_log_settings
from .network import ExistingNetwork, add_network, check_existing
from .outputs import add_outputs
from .probe import add_probe
from .scaling import add_scaling
from .service import add_service
from .stack import Stack

__all__ = ["Stack", "build_stack", "build_template", "new_template"]

GENERATOR = "infra-gen"
# The template's own Metadata key recording what made it.
PROVENANCE = "InfraGen"

DESCRIPTION = (
    "nginx on ECS Fargate behind an Application Load Balancer, in Cloud Map, probed by a "
    "scheduled Lambda function, watched by CloudWatch alarms (infra-gen)"
)


def as_config(cfg: Config | Mapping[str, Any] | None) -> Config:
    """``cfg`` as a :class:`Config`: the defaults for ``None``, a mapping read like TOML."""
    if cfg is None:
        return Config()
    if isinstance(cfg, Config):
        return cfg
    if isinstance(cfg, Mapping):
        return Config.from_mapping(cfg)
    raise ConfigError(
        "config", f"expected a Config or a mapping of sections, got {type(cfg).__name__}"
    )


def new_template(cfg: Config | Mapping[str, Any] | None = None) -> Template:
    """An empty template with the stack's description and provenance for ``cfg``.

    The first step of the documented order; the concerns add everything else.
    """
    cfg = as_config(cfg)
    t = Template(Description=DESCRIPTION)
    t.set_version("2010-09-09")
    # What made this template: no clock and no path, so it stays reproducible.
    t.metadata[PROVENANCE] = {
        "Generator": GENERATOR,
        "Version": __version__,
        "ConfigSha256": cfg.digest(),
    }
    return t


def build_stack(
    cfg: Config | Mapping[str, Any] | None = None,
    *,
    template: Template | None = None,
    network: ExistingNetwork | None = None,
) -> Stack:
    """Build the whole stack for ``cfg`` (a :class:`Config`, a mapping, or the defaults).

    With ``template`` (a host troposphere ``Template``) the stack is built into it, as
    :func:`new_template` then the documented order would: the host keeps its resources,
    Description, Metadata and console groups (the stack's groups follow its own), and
    gets the stack's provenance Metadata. With ``network`` (an
    :class:`~infra_gen.template.network.ExistingNetwork` of the host's VPC and subnets)
    the stack adds no network of its own and uses the host's. Raises
    :class:`ConfigError` for a bad configuration or ``network``, or a logical ID both the
    host and the stack hold, before anything is built.
    """
    cfg = as_config(_on_host_vpc(cfg) if network is not None else cfg)
    if network is not None:
        network = check_existing(template, network, cfg)
    elif cfg.network.vpc_id == VPC_HOST:
        raise ConfigError(
            "network.vpc_id",
            f"{VPC_HOST!r} is a host template's VPC, which build_stack(template=host, "
            "network=ExistingNetwork(...)) gives; allowed here: a VPC ID or 'parameter'",
        )
    stack = _build(new_template(cfg), cfg, network)
    if template is None:
        return stack
    # Built alone first, the stack says exactly what it adds (its IDs follow the
    # configuration): a collision is refused while the host is untouched.
    host = into_host(template, stack.template, PROVENANCE, stack.boundary)
    return replace(stack, template=host)


def _on_host_vpc(cfg: Config | Mapping[str, Any] | None) -> Config | Mapping[str, Any] | None:
    """``cfg`` with ``network.vpc_id = "host"``: the profile's checks then see an existing
    VPC (no AZ IDs, no private blocks of its own), as for a VPC given by ID."""
    if isinstance(cfg, Config):
        given = cfg.network.vpc_id
    elif isinstance(cfg, Mapping) and isinstance(cfg.get("network", {}), Mapping):
        given = cfg.get("network", {}).get("vpc_id", "")
    elif cfg is None:
        given = ""
    else:
        return cfg  # as_config names what is wrong with it
    if given and given != VPC_HOST:
        raise ConfigError(
            "network", f"and network.vpc_id={given!r} both give the VPC; give one of them"
        )
    if isinstance(cfg, Config):
        return cfg.with_changes({"network": {"vpc_id": VPC_HOST}})
    mapping = dict(cfg or {})
    mapping["network"] = {**mapping.get("network", {}), "vpc_id": VPC_HOST}
    return mapping


def _build(t: Template, cfg: Config, existing: ExistingNetwork | None = None) -> Stack:
    """Every concern added to ``t`` in the documented order."""
    log_settings = add_log_settings(t, cfg)
    network = add_network(t, cfg, log_settings=log_settings, existing=existing)
    load_balancer = add_load_balancer(t, cfg, network=network)
    discovery = add_discovery(t, cfg, network=network)
    service = add_service(
        t,
        cfg,
        network=network,
        load_balancer=load_balancer,
        discovery=discovery,
        log_settings=log_settings,
    )
    scaling = add_scaling(t, cfg, service=service, load_balancer=load_balancer)
    probe = add_probe(
        t,
        cfg,
        network=network,
        discovery=discovery,
        service=service,
        log_settings=log_settings,
    )
    alarms = add_alarms(t, cfg, load_balancer=load_balancer, service=service, probe=probe)
    dashboard = add_dashboard(t, load_balancer=load_balancer, service=service, probe=probe)
    outputs = add_outputs(t, load_balancer=load_balancer, service=service, discovery=discovery)
    boundary = add_permissions_boundary(t)
    return Stack(
        template=t,
        config=cfg,
        log_settings=log_settings,
        network=network,
        load_balancer=load_balancer,
        discovery=discovery,
        service=service,
        scaling=scaling,
        probe=probe,
        alarms=alarms,
        dashboard=dashboard,
        outputs=outputs,
        boundary=boundary,
    )


def build_template(cfg: Config | Mapping[str, Any] | None = None) -> Template:
    """Build the whole stack for ``cfg`` and return its template: ``build_stack(cfg).template``."""
    return build_stack(cfg).template
