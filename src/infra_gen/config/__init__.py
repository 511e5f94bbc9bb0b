"""The stack's configuration: frozen, typed, validated once at construction.

Every field documents its default; the defaults deploy as they are. Errors are
:class:`ConfigError` with one line naming the dotted key, the bad value and what
is allowed. Concern modules trust a constructed :class:`Config`.
"""

from __future__ import annotations

from .sections import (
    FARGATE_TASK_SIZES,
    IMAGE_PATTERN,
    LOG_RETENTION_DAYS,
    LOGICAL_ID,
    PROBE_SCHEDULES,
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
    check_environment,
    check_secrets,
    check_writable_paths,
    held_by,
    parse_setting,
    parse_toml,
    probe_alarm_period,
)

__all__ = [
    "AlarmsConfig",
    "ClusterConfig",
    "Config",
    "ConfigError",
    "DiscoveryConfig",
    "NetworkConfig",
    "ProbeConfig",
    "ScalingConfig",
    "SecurityConfig",
    "ServiceConfig",
    "FARGATE_TASK_SIZES",
    "IMAGE_PATTERN",
    "LOGICAL_ID",
    "LOG_RETENTION_DAYS",
    "PROBE_SCHEDULES",
    "check_environment",
    "check_secrets",
    "check_writable_paths",
    "held_by",
    "parse_setting",
    "parse_toml",
    "probe_alarm_period",
]
