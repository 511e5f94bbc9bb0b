"""infra_gen: one self-contained CloudFormation stack for nginx on ECS Fargate.

Build the stack with :func:`build_stack` (the template and every concern's handle)
or :func:`build_template` (the template alone) from a :class:`Config` or a plain
mapping; render it with :func:`render`. Each concern (``add_network``,
``add_service``, ...) can be called on its own by other generators, in the order
:mod:`infra_gen.builder` documents; see README.
"""

import sys
import types
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from . import ids
    from .alarms import (
        GREATER,
        GREATER_OR_EQUAL,
        LESS,
        LESS_OR_EQUAL,
        Alarms,
        AlarmSpec,
        add_alarms,
    )
    from .boundary import Boundary, add_permissions_boundary
    from .builder import Stack, build_stack, build_template, new_template
    from .cloudmap import Discovery, add_discovery
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
    from .dashboard import Dashboard, add_dashboard
    from .ecs import Service, add_service
    from .loadbalancer import LoadBalancer, add_load_balancer
    from .loggroups import LogSettings, add_log_settings
    from .metrics import Metric, MetricMath
    from .network import Network, add_network
    from .outputs import Outputs, ServiceOutputs, add_outputs
    from .probe import Probe, add_probe
    from .render import TemplateTooLarge, check_size, largest_parts, render, render_inline
    from .scaling import Scaling, add_scaling

# Each name is imported on first use (PEP 562): `infra-gen` starts without troposphere
# loaded, so a Ctrl-C while it loads ends in one line instead of a traceback.
_EXPORTS = {
    "GREATER": "alarms",
    "GREATER_OR_EQUAL": "alarms",
    "LESS": "alarms",
    "LESS_OR_EQUAL": "alarms",
    "Alarms": "alarms",
    "AlarmSpec": "alarms",
    "add_alarms": "alarms",
    "Boundary": "boundary",
    "add_permissions_boundary": "boundary",
    "Stack": "builder",
    "build_stack": "builder",
    "build_template": "builder",
    "new_template": "builder",
    "Discovery": "cloudmap",
    "add_discovery": "cloudmap",
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
    "Dashboard": "dashboard",
    "add_dashboard": "dashboard",
    "Service": "ecs",
    "add_service": "ecs",
    "LoadBalancer": "loadbalancer",
    "add_load_balancer": "loadbalancer",
    "LogSettings": "loggroups",
    "add_log_settings": "loggroups",
    "Metric": "metrics",
    "MetricMath": "metrics",
    "Network": "network",
    "add_network": "network",
    "Outputs": "outputs",
    "ServiceOutputs": "outputs",
    "add_outputs": "outputs",
    "Probe": "probe",
    "add_probe": "probe",
    "TemplateTooLarge": "render",
    "check_size": "render",
    "largest_parts": "render",
    "render": "render",
    "render_inline": "render",
    "Scaling": "scaling",
    "add_scaling": "scaling",
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


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        # Importing the submodule infra_gen.render binds it here, over the function of
        # the same name that the public API exports (as the eager import did).
        if name == "render" and isinstance(value, types.ModuleType):
            self.__dict__.pop(name, None)
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> object:
    import importlib

    if name == "ids":
        return importlib.import_module(".ids", __name__)
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
