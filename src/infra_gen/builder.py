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

Concerns that do not depend on each other may come in either order with the same
bytes: the load balancer and discovery; scaling, the probe and the outputs (once
the service exists); the alarms and the dashboard (once the probe exists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from troposphere import Template

from ._version import __version__
from .alarms import Alarms, add_alarms
from .cloudmap import Discovery, add_discovery
from .config import Config, ConfigError
from .dashboard import Dashboard, add_dashboard
from .ecs import Service, add_service
from .loadbalancer import LoadBalancer, add_load_balancer
from .loggroups import LogSettings, add_log_settings
from .network import Network, add_network
from .outputs import Outputs, add_outputs
from .probe import Probe, add_probe
from .scaling import Scaling, add_scaling

__all__ = ["Stack", "build_stack", "build_template", "new_template"]

GENERATOR = "infra-gen"
# The template's own Metadata key recording what made it.
PROVENANCE = "InfraGen"

DESCRIPTION = (
    "nginx on ECS Fargate behind an Application Load Balancer, registered in Cloud Map, "
    "probed on a schedule by a Lambda function, watched by CloudWatch alarms (infra-gen)"
)


@dataclass(frozen=True, eq=False)
class Stack:
    """The built template and every concern's handle, to extend it by object."""

    template: Template
    """The troposphere template; render it with :func:`infra_gen.render`."""
    config: Config
    """The configuration it was built from."""
    log_settings: LogSettings
    """Retention Parameter and optional KMS key of every log group."""
    network: Network
    """VPC, public subnets and their default route."""
    load_balancer: LoadBalancer
    """The ALB, its security group, target group and listeners."""
    discovery: Discovery
    """The Cloud Map namespace and the service the tasks register in."""
    service: Service
    """Cluster, ECS service, task definition, the tasks' security group and log group."""
    scaling: Scaling
    """The scalable target and its two target tracking policies."""
    probe: Probe
    """The probe function, its schedule rule, log group and security group."""
    alarms: Alarms
    """The alarm topic and the stack's alarms; :meth:`Alarms.add_alarm` adds more."""
    dashboard: Dashboard
    """The CloudWatch dashboard and its URL Output."""
    outputs: Outputs
    """The exported Outputs."""


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


def build_stack(cfg: Config | Mapping[str, Any] | None = None) -> Stack:
    """Build the whole stack for ``cfg`` (a :class:`Config`, a mapping, or the defaults).

    Raises :class:`ConfigError` for a bad configuration, before anything is built.
    """
    cfg = as_config(cfg)
    t = new_template(cfg)
    log_settings = add_log_settings(t, cfg)
    network = add_network(t, cfg, log_settings=log_settings)
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
    )


def build_template(cfg: Config | Mapping[str, Any] | None = None) -> Template:
    """Build the whole stack for ``cfg`` and return its template: ``build_stack(cfg).template``."""
    return build_stack(cfg).template
