"""infra_gen: one self-contained CloudFormation stack for nginx on ECS Fargate.

Build the stack with :func:`build_stack` (the template and every concern's handle)
or :func:`build_template` (the template alone) from a :class:`Config` or a plain
mapping; render it with :func:`render`. Each concern (``add_network``,
``add_service``, ...) can be called on its own by other generators, in the order
:mod:`infra_gen.template.builder` documents; see README.
"""

from typing import TYPE_CHECKING

from ._version import __version__
from .template import ids  # a leaf: names only, no troposphere

if TYPE_CHECKING:
    from .config import (
        AlarmsConfig,
        ClusterConfig,
        Config,
        ConfigError,
        DiscoveryConfig,
        NetworkConfig,
        ProbeConfig,
        ScalingConfig,
        SecurityConfig,
        ServiceConfig,
    )
    from .errors import TemplateTooLarge
    from .template.alarms import (
        GREATER,
        GREATER_OR_EQUAL,
        LESS,
        LESS_OR_EQUAL,
        Alarms,
        AlarmSpec,
        add_alarms,
    )
    from .template.boundary import Boundary, add_permissions_boundary
    from .template.budget import largest_parts
    from .template.builder import Stack, build_stack, build_template, new_template
    from .template.cloudmap import Discovery, add_discovery
    from .template.dashboard import Dashboard, add_dashboard
    from .template.loadbalancer import LoadBalancer, add_load_balancer
    from .template.loggroups import LogSettings, add_log_settings
    from .template.metrics import Metric, MetricMath
    from .template.network import Network, add_network
    from .template.outputs import Outputs, ServiceOutputs, add_outputs
    from .template.probe import Probe, add_probe
    from .template.render import check_size, render, render_inline
    from .template.scaling import Scaling, add_scaling
    from .template.service import Service, add_service

# Each name is imported on first use (PEP 562): `infra-gen` starts without troposphere
# loaded, so a Ctrl-C while it loads ends in one line instead of a traceback.
_EXPORTS = {
    "GREATER": "template.alarms",
    "GREATER_OR_EQUAL": "template.alarms",
    "LESS": "template.alarms",
    "LESS_OR_EQUAL": "template.alarms",
    "Alarms": "template.alarms",
    "AlarmSpec": "template.alarms",
    "add_alarms": "template.alarms",
    "Boundary": "template.boundary",
    "add_permissions_boundary": "template.boundary",
    "Stack": "template.builder",
    "build_stack": "template.builder",
    "build_template": "template.builder",
    "new_template": "template.builder",
    "Discovery": "template.cloudmap",
    "add_discovery": "template.cloudmap",
    "AlarmsConfig": "config",
    "ClusterConfig": "config",
    "Config": "config",
    "ConfigError": "config",
    "DiscoveryConfig": "config",
    "NetworkConfig": "config",
    "ProbeConfig": "config",
    "ScalingConfig": "config",
    "SecurityConfig": "config",
    "ServiceConfig": "config",
    "Dashboard": "template.dashboard",
    "add_dashboard": "template.dashboard",
    "Service": "template.service",
    "add_service": "template.service",
    "LoadBalancer": "template.loadbalancer",
    "add_load_balancer": "template.loadbalancer",
    "LogSettings": "template.loggroups",
    "add_log_settings": "template.loggroups",
    "Metric": "template.metrics",
    "MetricMath": "template.metrics",
    "Network": "template.network",
    "add_network": "template.network",
    "Outputs": "template.outputs",
    "ServiceOutputs": "template.outputs",
    "add_outputs": "template.outputs",
    "Probe": "template.probe",
    "add_probe": "template.probe",
    "TemplateTooLarge": "errors",
    "check_size": "template.render",
    "largest_parts": "template.budget",
    "render": "template.render",
    "render_inline": "template.render",
    "Scaling": "template.scaling",
    "add_scaling": "template.scaling",
}

__all__ = [
    "GREATER",
    "GREATER_OR_EQUAL",
    "LESS",
    "LESS_OR_EQUAL",
    "AlarmSpec",
    "Alarms",
    "Boundary",
    "AlarmsConfig",
    "ClusterConfig",
    "Config",
    "ConfigError",
    "DiscoveryConfig",
    "NetworkConfig",
    "Probe",
    "ProbeConfig",
    "Scaling",
    "ScalingConfig",
    "SecurityConfig",
    "ServiceConfig",
    "Dashboard",
    "Discovery",
    "LoadBalancer",
    "LogSettings",
    "Metric",
    "MetricMath",
    "Network",
    "Outputs",
    "Service",
    "ServiceOutputs",
    "Stack",
    "TemplateTooLarge",
    "__version__",
    "ids",
    "add_alarms",
    "add_dashboard",
    "add_discovery",
    "add_load_balancer",
    "add_log_settings",
    "add_network",
    "add_outputs",
    "add_permissions_boundary",
    "add_probe",
    "add_scaling",
    "add_service",
    "build_stack",
    "check_size",
    "build_template",
    "largest_parts",
    "new_template",
    "render",
    "render_inline",
]


def __getattr__(name: str) -> object:
    import importlib

    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
