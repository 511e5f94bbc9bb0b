"""The one place that calls the concerns, in dependency order."""

from __future__ import annotations

from troposphere import Template

from ._version import __version__
from .alarms import add_alarms
from .cloudmap import add_discovery
from .config import Config
from .dashboard import add_dashboard
from .ecs import add_service
from .loadbalancer import add_load_balancer
from .loggroups import add_log_settings
from .network import add_network
from .outputs import add_outputs
from .params import GROUP_ALARMS, GROUP_PROBE, GROUP_SECURITY, GROUP_SERVICE
from .probe import add_probe
from .scaling import add_scaling

__all__ = ["build_template"]

GENERATOR = "infra-gen"
# The template's own Metadata key recording what made it.
PROVENANCE = "InfraGen"

DESCRIPTION = (
    "nginx on ECS Fargate behind an Application Load Balancer, registered in Cloud Map, "
    "probed on a schedule by a Lambda function, watched by CloudWatch alarms (infra-gen)"
)


def build_template(cfg: Config | None = None) -> Template:
    """Build the whole stack for ``cfg`` (the defaults when omitted)."""
    cfg = cfg or Config()
    t = Template(Description=DESCRIPTION)
    t.set_version("2010-09-09")
    # Fix the console's group order before any concern adds a Parameter to one.
    groups = [
        {"Label": {"default": name}, "Parameters": []}
        for name in (GROUP_SERVICE, GROUP_PROBE, GROUP_ALARMS, GROUP_SECURITY)
    ]
    t.set_metadata(
        {
            "AWS::CloudFormation::Interface": {"ParameterGroups": groups},
            # What made this template: no clock and no path, so it stays reproducible.
            PROVENANCE: {
                "Generator": GENERATOR,
                "Version": __version__,
                "ConfigSha256": cfg.digest(),
            },
        }
    )
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
    add_scaling(t, cfg, service=service, load_balancer=load_balancer)
    probe = add_probe(
        t,
        cfg,
        network=network,
        discovery=discovery,
        service=service,
        log_settings=log_settings,
    )
    add_alarms(t, cfg, load_balancer=load_balancer, service=service, probe=probe)
    add_dashboard(t, load_balancer=load_balancer, service=service, probe=probe)
    add_outputs(t, load_balancer=load_balancer, service=service, discovery=discovery)
    groups[:] = [g for g in groups if g["Parameters"]]
    return t
