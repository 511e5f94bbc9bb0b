"""infra_gen: one self-contained CloudFormation stack for nginx on ECS Fargate.

Build the stack with :func:`build_stack` (the template and every concern's handle)
or :func:`build_template` (the template alone) from a :class:`Config` or a plain
mapping; render it with :func:`render`. Each concern (``add_network``,
``add_service``, ...) can be called on its own by other generators, in the order
:mod:`infra_gen.builder` documents; see README.
"""

from . import ids
from ._version import __version__
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
from .outputs import Outputs, add_outputs
from .probe import Probe, add_probe
from .render import TemplateTooLarge, check_size, render, render_inline
from .scaling import Scaling, add_scaling

__all__ = [
    "GREATER",
    "GREATER_OR_EQUAL",
    "LESS",
    "LESS_OR_EQUAL",
    "AlarmSpec",
    "Alarms",
    "AlarmsConfig",
    "Boundary",
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
    "Stack",
    "TemplateTooLarge",
    "__version__",
    "ids",
    "add_alarms",
    "add_permissions_boundary",
    "add_dashboard",
    "add_discovery",
    "add_load_balancer",
    "add_log_settings",
    "add_network",
    "add_outputs",
    "add_probe",
    "add_scaling",
    "add_service",
    "build_stack",
    "check_size",
    "build_template",
    "new_template",
    "render",
    "render_inline",
]
