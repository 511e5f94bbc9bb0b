"""infra_gen: one self-contained CloudFormation stack for nginx on ECS Fargate.

Build the stack with :func:`build_stack` (the template and every concern's handle)
or :func:`build_template` (the template alone) from a :class:`Config` or a plain
mapping; render it with :func:`render`. Each concern (``add_network``,
``add_service``, ...) can be called on its own by other generators, in the order
:mod:`infra_gen.template.builder` documents; see README.
"""

import _signal  # builtin, loaded with the interpreter (signal itself builds enums first)
import os
import sys

# Started as the command line (`python -m infra_gen`, or the `infra-gen` script), Ctrl-C
# waits, blocked, from this first line until the command line's handling is in place
# (infra_gen.cli.run unblocks it): a Ctrl-C at start-up is one line too, never a
# traceback. A program that imports the library keeps its own signal handling.
_ARGV = getattr(sys, "orig_argv", [])
if hasattr(_signal, "pthread_sigmask") and (
    any(a == "-m" and b == __name__ for a, b in zip(_ARGV, _ARGV[1:], strict=False))
    or os.path.basename(sys.argv[0] if sys.argv else "") == "infra-gen"
):
    _signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGINT})

from typing import TYPE_CHECKING  # noqa: E402 - after Ctrl-C is held back

from ._version import __version__  # noqa: E402
from .template import ids  # noqa: E402 - a leaf: names only, no troposphere

# The public API: each name and the module it comes from, imported on first use
# (PEP 562), so that `infra-gen` starts without troposphere loaded and a Ctrl-C while
# it loads ends in one line instead of a traceback.
_EXPORTS = {
    **dict.fromkeys(
        [
            "AlarmsConfig",
            "ClusterConfig",
            "Config",
            "ConfigError",
            "DiscoveryConfig",
            "DomainConfig",
            "NetworkConfig",
            "ProbeConfig",
            "ScalingConfig",
            "SecurityConfig",
            "ServiceConfig",
        ],
        "config",
    ),
    "TemplateTooLarge": "errors",
    **dict.fromkeys(
        [
            "GREATER",
            "GREATER_OR_EQUAL",
            "LESS",
            "LESS_OR_EQUAL",
            "Alarms",
            "AlarmSpec",
            "add_alarms",
        ],
        "template.alarms",
    ),
    **dict.fromkeys(["Boundary", "add_permissions_boundary"], "template.boundary"),
    "largest_parts": "template.budget",
    **dict.fromkeys(["build_stack", "build_template", "new_template"], "template.builder"),
    **dict.fromkeys(["Discovery", "add_discovery"], "template.cloudmap"),
    **dict.fromkeys(["Dashboard", "add_dashboard"], "template.dashboard"),
    **dict.fromkeys(["LoadBalancer", "add_load_balancer"], "template.loadbalancer"),
    **dict.fromkeys(["LogSettings", "add_log_settings"], "template.loggroups"),
    **dict.fromkeys(["Metric", "MetricMath"], "template.metrics"),
    **dict.fromkeys(["ExistingNetwork", "Network", "add_network"], "template.network"),
    **dict.fromkeys(["Outputs", "ServiceOutputs", "add_outputs"], "template.outputs"),
    **dict.fromkeys(["Probe", "add_probe"], "template.probe"),
    **dict.fromkeys(["check_size", "render", "render_inline"], "template.render"),
    **dict.fromkeys(["Scaling", "add_scaling"], "template.scaling"),
    **dict.fromkeys(["Service", "add_service"], "template.service"),
    "Stack": "template.stack",
    "grants": "template",  # a module: infra_gen.grants.read(...)
}

__all__ = [*_EXPORTS, "__version__", "ids"]

# For type checkers only, which cannot follow __getattr__: the same names, which a test
# holds equal to the table.
if TYPE_CHECKING:
    from .config import AlarmsConfig as AlarmsConfig
    from .config import ClusterConfig as ClusterConfig
    from .config import Config as Config
    from .config import ConfigError as ConfigError
    from .config import DiscoveryConfig as DiscoveryConfig
    from .config import DomainConfig as DomainConfig
    from .config import NetworkConfig as NetworkConfig
    from .config import ProbeConfig as ProbeConfig
    from .config import ScalingConfig as ScalingConfig
    from .config import SecurityConfig as SecurityConfig
    from .config import ServiceConfig as ServiceConfig
    from .errors import TemplateTooLarge as TemplateTooLarge
    from .template import grants as grants
    from .template.alarms import GREATER as GREATER
    from .template.alarms import GREATER_OR_EQUAL as GREATER_OR_EQUAL
    from .template.alarms import LESS as LESS
    from .template.alarms import LESS_OR_EQUAL as LESS_OR_EQUAL
    from .template.alarms import Alarms as Alarms
    from .template.alarms import AlarmSpec as AlarmSpec
    from .template.alarms import add_alarms as add_alarms
    from .template.boundary import Boundary as Boundary
    from .template.boundary import add_permissions_boundary as add_permissions_boundary
    from .template.budget import largest_parts as largest_parts
    from .template.builder import build_stack as build_stack
    from .template.builder import build_template as build_template
    from .template.builder import new_template as new_template
    from .template.cloudmap import Discovery as Discovery
    from .template.cloudmap import add_discovery as add_discovery
    from .template.dashboard import Dashboard as Dashboard
    from .template.dashboard import add_dashboard as add_dashboard
    from .template.loadbalancer import LoadBalancer as LoadBalancer
    from .template.loadbalancer import add_load_balancer as add_load_balancer
    from .template.loggroups import LogSettings as LogSettings
    from .template.loggroups import add_log_settings as add_log_settings
    from .template.metrics import Metric as Metric
    from .template.metrics import MetricMath as MetricMath
    from .template.network import ExistingNetwork as ExistingNetwork
    from .template.network import Network as Network
    from .template.network import add_network as add_network
    from .template.outputs import Outputs as Outputs
    from .template.outputs import ServiceOutputs as ServiceOutputs
    from .template.outputs import add_outputs as add_outputs
    from .template.probe import Probe as Probe
    from .template.probe import add_probe as add_probe
    from .template.render import check_size as check_size
    from .template.render import render as render
    from .template.render import render_inline as render_inline
    from .template.scaling import Scaling as Scaling
    from .template.scaling import add_scaling as add_scaling
    from .template.service import Service as Service
    from .template.service import add_service as add_service
    from .template.stack import Stack as Stack


def __getattr__(name: str) -> object:
    import importlib

    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
    if not hasattr(module, name):  # a submodule, as `from .template import grants` takes it
        importlib.import_module(f".{name}", module.__name__)
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
