"""The stack's configuration: frozen, typed, validated once at construction.

Every field documents its default; the defaults deploy as they are. Errors are
:class:`ConfigError` with one line naming the dotted key, the bad value and what
is allowed. Concern modules trust a constructed :class:`Config`.

Standard library only: the sections (:mod:`.sections`), the value checks
(:mod:`.checks`), the AWS facts they are checked against (:mod:`.limits`), the
TOML forms (:mod:`.toml`), and what ``governed = true`` expands into
(:mod:`.profiles`), once, before a :class:`Config` is built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, shown
from .checks import (
    IMAGE_PATTERN,
    LOGICAL_ID,
    PROBE_PATH,
    check_environment,
    check_secrets,
    check_writable_paths,
)
from .limits import (
    CFN_DEPLOYMENT_MINUTES,
    DNS_NAME_MAX,
    FARGATE_TASK_SIZES,
    LOG_RETENTION_DAYS,
    PROBE_SCHEDULES,
    evaluation_limit,
    probe_alarm_period,
)
from .profiles import DEFAULT, GOVERNED, Profile, expand
from .sections import (
    SECTIONS,
    TOP_LEVEL,
    AlarmsConfig,
    ClusterConfig,
    DiscoveryConfig,
    DomainConfig,
    NetworkConfig,
    ProbeConfig,
    ScalingConfig,
    SecurityConfig,
    ServiceConfig,
    sorted_keys,
    unknown,
)
from .toml import dumps, parse_setting, parse_toml

__all__ = [
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
    "Profile",
    "FARGATE_TASK_SIZES",
    "IMAGE_PATTERN",
    "LOGICAL_ID",
    "LOG_RETENTION_DAYS",
    "PROBE_PATH",
    "PROBE_SCHEDULES",
    "check_environment",
    "check_secrets",
    "check_writable_paths",
    "parse_setting",
    "parse_toml",
    "probe_alarm_period",
]


LATER_SETTINGS = (
    ("network", "vpc_id"),
    ("network", "public_subnet_ids"),
    ("network", "private_subnet_ids"),
    ("service", "writable_paths"),
    ("domain", "name"),
    ("domain", "hosted_zone_id"),
    ("domain", "certificate_arn"),
)
"""Settings added after templates were deployed, as ``(section, key)``: left out of
:meth:`Config.digest` while empty."""


class _Defaults:
    """What a section left out of ``Config(...)`` holds until its defaults replace it."""

    def __repr__(self) -> str:
        return "<defaults>"


_LEFT_OUT: Any = _Defaults()


@dataclass(frozen=True, kw_only=True, init=False)
class Config:
    """The whole stack's configuration. ``Config()`` is the documented default stack."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    """``[network]``: the VPC and its subnets."""
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    """``[cluster]``: the Fargate / Fargate Spot mix."""
    service: ServiceConfig = field(default_factory=ServiceConfig)
    """``[service]``: image, task size, port, health check, logs."""
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    """``[discovery]``: the Cloud Map namespace and record TTL."""
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    """``[probe]``: the probe's schedule, request and metrics."""
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    """``[alarms]``: alarm periods and thresholds."""
    scaling: ScalingConfig = field(default_factory=ScalingConfig)
    """``[scaling]``: task count range and scaling targets."""
    security: SecurityConfig = field(default_factory=SecurityConfig)
    """``[security]``: hardening switches."""
    domain: DomainConfig = field(default_factory=DomainConfig)
    """``[domain]``: the service's own DNS name, its certificate and HTTPS."""
    governed: bool = False
    """The governed profile (top-level ``governed = true``): tasks in private subnets
    behind NAT gateways, a non-root user, HTTPS only, deletion protection and access
    logs on, retained logs; it passes the Control Tower proactive controls docs/security.md lists.
    It turns on ``security.alb_access_logs`` and defaults ``network.nat_gateways`` to
    ``per_az`` and ``service.writable_paths`` to ``/tmp`` and ``/var/cache/nginx``
    (nginx-unprivileged's); it requires AZ IDs, an image pinned by digest, ``service.user`` and a
    ``service.container_port`` of 1024 or more."""
    profile: Profile = field(init=False, repr=False, compare=False)
    """What ``governed`` stands for as explicit settings: ``GOVERNED`` or ``DEFAULT``
    (:mod:`infra_gen.config.profiles`). Set from ``governed``, not given."""

    def __init__(
        self,
        *,
        network: NetworkConfig = _LEFT_OUT,
        cluster: ClusterConfig = _LEFT_OUT,
        service: ServiceConfig = _LEFT_OUT,
        discovery: DiscoveryConfig = _LEFT_OUT,
        probe: ProbeConfig = _LEFT_OUT,
        alarms: AlarmsConfig = _LEFT_OUT,
        scaling: ScalingConfig = _LEFT_OUT,
        security: SecurityConfig = _LEFT_OUT,
        domain: DomainConfig = _LEFT_OUT,
        governed: bool = False,
    ) -> None:
        """Expand the profile ``governed`` names into the sections, then check the whole.

        The profile refuses what it forbids and turns its settings on before anything is
        stored: nothing changes afterwards.

        Args:
            network, cluster, service, discovery, probe, alarms, scaling, security, domain:
                the sections. Default: each section's defaults.
            governed: the governed profile. Default: False.

        Raises:
            ConfigError: a bad section, a setting the profile refuses, or a check across
                sections, named by its dotted key.
        """
        given = {
            "network": network,
            "cluster": cluster,
            "service": service,
            "discovery": discovery,
            "probe": probe,
            "alarms": alarms,
            "scaling": scaling,
            "security": security,
            "domain": domain,
        }
        sections = {}
        for name, cls in SECTIONS.items():
            sections[name] = cls() if given[name] is _LEFT_OUT else given[name]
            if not isinstance(sections[name], cls):
                raise ConfigError(name, f"expected a {cls.__name__}")
        if not isinstance(governed, bool):
            raise ConfigError("governed", f"expected true or false, got {shown(governed)}")
        profile = GOVERNED if governed else DEFAULT
        settings = {**expand(profile, sections), "governed": governed, "profile": profile}
        for name, value in settings.items():
            # Stored once, as a frozen dataclass's own __init__ stores its fields.
            object.__setattr__(self, name, value)
        self._check_across_sections()

    def _check_across_sections(self) -> None:
        """Refuse settings that are each allowed but not together."""
        fqdn = f"{self.service.name}.{self.discovery.namespace}"
        if len(fqdn) > DNS_NAME_MAX:
            raise ConfigError(
                "discovery.namespace",
                f"makes the service's name {shown(fqdn, 40)} {len(fqdn)} characters long "
                f"with service.name; allowed at most {DNS_NAME_MAX} (DNS)",
            )
        interval = PROBE_SCHEDULES[self.probe.schedule]
        if self.alarms.probe_missing_minutes < interval:
            raise ConfigError(
                "alarms.probe_missing_minutes",
                f"{self.alarms.probe_missing_minutes} is shorter than probe.schedule "
                f"{self.probe.schedule!r}; allowed {interval}..1440",
            )
        self._check_deployment()
        if self.service.desired_count > self.scaling.max_tasks:
            raise ConfigError(
                "service.desired_count",
                f"{self.service.desired_count} is above scaling.max_tasks "
                f"{self.scaling.max_tasks}; allowed 1..{self.scaling.max_tasks}",
            )
        # CloudWatch evaluates at most one day with periods under an hour, seven days with
        # longer ones (PutMetricAlarm), for the per-run probe alarms at the slowest
        # schedule the ProbeSchedule Parameter allows.
        slowest = max(m for m in PROBE_SCHEDULES.values() if m <= self.alarms.probe_missing_minutes)
        periods = self.alarms.evaluation_periods
        period = probe_alarm_period(self.alarms.period_seconds, slowest)
        if period * periods > evaluation_limit(period):
            raise ConfigError(
                "alarms.evaluation_periods",
                f"{periods} periods of {period} s (probe schedules up to {slowest} minutes) "
                f"exceed CloudWatch's evaluation limit of {evaluation_limit(period)} s",
            )

    @property
    def slowest_schedule_minutes(self) -> int:
        """The slowest probe schedule the ``ProbeSchedule`` Parameter allows: those at most
        ``alarms.probe_missing_minutes`` apart."""
        return max(m for m in PROBE_SCHEDULES.values() if m <= self.alarms.probe_missing_minutes)

    @property
    def rollback_minutes(self) -> int:
        """Minutes the slowest rollback alarm takes to fire once a release fails: the probe's
        ``alarms.datapoints_to_alarm`` periods at the slowest schedule allowed."""
        period = probe_alarm_period(self.alarms.period_seconds, self.slowest_schedule_minutes)
        return self.alarms.datapoints_to_alarm * period // 60

    def _check_deployment(self) -> None:
        """A traffic shift must last long enough for the rollback alarms to judge it."""
        s, need = self.service, self.rollback_minutes
        if s.deployment == "rolling":
            return
        why = (
            f"the rollback alarms need {need} minutes to fire (alarms.datapoints_to_alarm "
            f"periods at probe schedules up to {self.slowest_schedule_minutes} minutes)"
        )
        if s.shift_minutes < need:
            if s.deployment == "canary":
                raise ConfigError(
                    "service.canary_bake_minutes",
                    f"{s.canary_bake_minutes} is shorter than {why}; allowed {need}..1440",
                )
            steps = s.linear_steps
            raise ConfigError(
                "service.linear_step_minutes",
                f"{s.linear_step_minutes} x {steps} steps (service.linear_step_percent="
                f"{s.linear_step_percent}) is shorter than {why}; allowed: "
                + (f"{-(-need // steps)}..1440" if steps else "linear_step_percent under 50"),
            )
        if s.bake_minutes < need:
            raise ConfigError(
                "service.bake_minutes",
                f"{s.bake_minutes} is shorter than {why}; allowed {need}..1440",
            )
        # CloudFormation refuses a deployment it computes at over 33 hours.
        if s.bake_minutes + s.shift_minutes > CFN_DEPLOYMENT_MINUTES:
            raise ConfigError(
                "service.bake_minutes",
                f"{s.bake_minutes} plus {s.shift_minutes} minutes of shifting exceeds "
                f"CloudFormation's {CFN_DEPLOYMENT_MINUTES} minutes for a deployment",
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Config:
        """Build from nested mappings as read from TOML: ``{"service": {"cpu": 512}}``."""
        if not isinstance(data, Mapping):
            raise ConfigError("config", f"expected a mapping of sections, got {shown(data)}")
        sections: dict[str, Any] = {}
        for name in sorted_keys(data, "", [*TOP_LEVEL, *SECTIONS]):
            if name in TOP_LEVEL:
                sections[name] = data[name]
                continue
            if name not in SECTIONS:
                raise ConfigError(name, unknown(name, [*TOP_LEVEL, *SECTIONS]))
            value = data[name]
            if not isinstance(value, Mapping):
                raise ConfigError(name, f"expected a table of keys, got {shown(value)}")
            sections[name] = SECTIONS[name].from_mapping(value)
        return cls(**sections)

    def with_changes(self, changes: Mapping[str, Any]) -> Config:
        """A copy with ``changes`` (nested like ``from_mapping``'s input) applied, validated
        again as a whole: ``cfg.with_changes({"service": {"cpu": 512, "memory": 1024}})``.

        Keys not named keep their values; a bad key or value raises :class:`ConfigError`.
        """
        if not isinstance(changes, Mapping):
            raise ConfigError("config", f"expected a mapping of sections, got {shown(changes)}")
        merged: dict[str, Any] = self.to_mapping()
        for name in sorted_keys(changes, "", [*TOP_LEVEL, *SECTIONS]):
            value = changes[name]
            if name in merged and isinstance(value, Mapping):
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = value  # from_mapping names what is wrong with it
        return Config.from_mapping(merged)

    def to_mapping(self) -> dict[str, Any]:
        """The nested mapping form, as ``from_mapping`` reads it."""
        sections = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        return {"governed": self.governed, **sections}

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical form: every setting, keys sorted, compact JSON.

        Equal configurations have equal digests, however they were written. A setting of
        :data:`LATER_SETTINGS` is left out while empty, so that a configuration that does
        not use it keeps the digest (and its template the bytes) it had before.
        """
        mapping = self.to_mapping()
        for name, key in LATER_SETTINGS:
            if not mapping[name][key]:
                del mapping[name][key]
            if not mapping[name]:  # a later section, all of it empty
                del mapping[name]
        canonical = json.dumps(mapping, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_toml(self) -> str:
        """Every setting as TOML that :func:`parse_toml` and ``from_mapping`` read back."""
        return dumps(self.to_mapping())
