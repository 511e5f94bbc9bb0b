"""infra_gen: one self-contained CloudFormation stack for nginx on ECS Fargate.

Build the template with :func:`build_template` and a :class:`Config`; render it
with :func:`render`. Each concern (``add_network``, ``add_service``, ...) can be
called on its own by other generators; see README.
"""

from ._version import __version__
from .alarms import Alarms, add_alarms
from .builder import build_template
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
from .dashboard import add_dashboard
from .ecs import Service, add_service
from .loadbalancer import LoadBalancer, add_load_balancer
from .loggroups import LogSettings, add_log_settings
from .network import Network, add_network
from .probe import Probe, add_probe
from .render import render
from .scaling import Scaling, add_scaling

__all__ = [
    "Alarms",
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
    "Discovery",
    "LoadBalancer",
    "LogSettings",
    "Network",
    "Service",
    "__version__",
    "add_alarms",
    "add_dashboard",
    "add_discovery",
    "add_load_balancer",
    "add_log_settings",
    "add_network",
    "add_probe",
    "add_scaling",
    "add_service",
    "build_template",
    "render",
]
