"""The configuration's sections: frozen, typed, each checked as a whole at construction.

Every field documents its default; :class:`ConfigError` names the dotted key, the bad
value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import ConfigError, shown
from .checks import (
    ACM_ARN,
    AZ_ID,
    DNS_LABEL,
    HOSTED_ZONE_ID,
    HTTP_PATH,
    IMAGE_PATTERN,
    METRIC_NAMESPACE,
    PROBE_PATH,
    SUBNET_ID,
    USER,
    VPC_ID,
    check_choice,
    check_pattern,
    check_range,
    check_text,
    cidr_block,
    dns_name_problem,
    email_problem,
    writable_volumes,
)
from .limits import (
    ACM_DOMAIN_MAX,
    ALARM_PERIODS,
    DNS_NAME_MAX,
    FARGATE_TASK_SIZES,
    IMAGE_MAX,
    LOG_RETENTION_DAYS,
    MOST_SUBNETS,
    PROBE_SCHEDULES,
    SMALLEST_SUBNET,
    evaluation_limit,
)

__all__ = [
    "AlarmsConfig",
    "ClusterConfig",
    "DiscoveryConfig",
    "DomainConfig",
    "NetworkConfig",
    "ProbeConfig",
    "ScalingConfig",
    "SecurityConfig",
    "ServiceConfig",
]

# The private subnets' ways out (governed): a NAT gateway per AZ, or one for all.
NAT_GATEWAYS = ("per_az", "one")
# How ECS releases a new revision: replace tasks as they pass the health check, or
# shift production traffic to them through the load balancer (ECS's own controller).
DEPLOYMENTS = ("rolling", "canary", "linear")
# network.vpc_id's value for an existing VPC whose IDs are Parameters given at deploy time.
VPC_PARAMETER = "parameter"
# network.vpc_id's value for a host template's own VPC, given to build_stack(network=...).
VPC_HOST = "host"
# The settings that shape the stack's own VPC, each with no use beside an existing one.
OWN_VPC_KEYS = (
    "vpc_cidr",
    "az_count",
    "subnet_cidrs",
    "availability_zone_ids",
    "nat_gateways",
    "private_subnet_cidrs",
)

_HINTS: dict[type, dict[str, Any]] = {}


def hints(cls: type) -> dict[str, Any]:
    """The field types of ``cls``, evaluated."""
    # Evaluated once per class: the annotations are strings (postponed evaluation).
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _type_ok(value: object, expected: Any) -> bool:
    if typing.get_origin(expected) is tuple:
        (item, _) = typing.get_args(expected)
        return isinstance(value, tuple) and all(_type_ok(v, item) for v in value)
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def type_name(expected: Any) -> str:
    """``expected`` in an error line: "an integer", "a list of strings"."""
    if typing.get_origin(expected) is tuple:
        return f"a list of {_TYPE_NAMES[typing.get_args(expected)[0]].split(' ', 1)[1]}s"
    return _TYPE_NAMES[expected]


class _Section:
    """Shared behaviour of the config sections: type checks and mapping input."""

    section: ClassVar[str]

    def _check_types(self) -> None:
        """Refuse a value of another type; store a list as a tuple and 80 as 80.0."""
        declared = hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            key = f"{self.section}.{f.name}"
            value = given = getattr(self, f.name)
            if typing.get_origin(declared[f.name]) is tuple and isinstance(value, list):
                # A list is the natural spelling in Python as in TOML; stored as a tuple.
                value = tuple(value)
                object.__setattr__(self, f.name, value)
            if not _type_ok(value, declared[f.name]):
                raise ConfigError(
                    key, f"expected {type_name(declared[f.name])}, got {shown(given)}"
                )
            for text in value if isinstance(value, tuple) else (value,):
                if isinstance(text, str):
                    check_text(key, text)
            if declared[f.name] is float and isinstance(value, int):
                # One canonical form: `80` and `80.0` are the same setting and render alike.
                try:
                    object.__setattr__(self, f.name, float(value))
                except OverflowError:
                    pass  # the range check names it

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Any:
        """The section from a table as TOML reads it, refusing a key it does not have."""
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key in sorted_keys(data, f"{cls.section}.", names):
            if key not in names:
                raise ConfigError(f"{cls.section}.{key}", unknown(key, names))
        return cls(**data)


def sorted_keys(data: Mapping[Any, Any], prefix: str, allowed: list[str]) -> list[str]:
    """``data``'s keys, sorted; one that is not text is refused as an unknown key.

    Args:
        data: a table as read. Default: required.
        prefix: what goes before a key in the error, e.g. "service.". Default: required.
        allowed: the keys the error lists. Default: required.

    Returns:
        The keys, sorted.

    Raises:
        ConfigError: a key that is not text, named by its repr (sorting keys of mixed
            types would raise TypeError).
    """
    for key in data:
        if not isinstance(key, str):
            raise ConfigError(prefix + shown(key), unknown(shown(key), allowed))
    return sorted(data)


def unknown(key: str, allowed: list[str]) -> str:
    """An unknown key's error text: the closest allowed key, then every one."""
    import difflib  # only on this error path: keeps the command's start-up short

    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; allowed: {', '.join(allowed)}"


@dataclass(frozen=True, kw_only=True)
class NetworkConfig(_Section):
    """The VPC and its public subnets, one per Availability Zone."""

    section: ClassVar[str] = "network"

    vpc_cidr: str = "10.0.0.0/16"
    """The VPC's IPv4 block, /16 to /26 (/25 with 3 AZs): it holds a /27 per AZ."""
    az_count: int = 2
    """Availability Zones, one public subnet each; an ALB needs at least 2."""
    subnet_cidrs: tuple[str, ...] = ()
    """One block per AZ inside ``vpc_cidr``; empty carves them from the VPC's start."""
    availability_zone_ids: tuple[str, ...] = ()
    """AZ IDs (e.g. ``use1-az1``), one per subnet; empty takes the Region's first AZs."""
    nat_gateways: str = ""
    """With ``governed``: ``per_az`` (the default there) or ``one`` NAT gateway for the
    private subnets' egress; empty otherwise (no private subnets)."""
    private_subnet_cidrs: tuple[str, ...] = ()
    """With ``governed``: the private subnets' blocks, one per AZ; empty carves them from
    the second half of the VPC (required when ``subnet_cidrs`` is given)."""
    vpc_id: str = ""
    """An existing VPC instead of the stack's own: its ID (``vpc-`` and 8 or 17 hex
    digits) with its subnets' IDs below, or ``parameter`` for the ``VpcId``,
    ``PublicSubnetIds`` (and, governed, ``PrivateSubnetIds``) Parameters given at deploy
    time (``host``: a host template's, which ``build_stack(network=...)`` sets). Empty
    adds the stack's own VPC, subnets, gateways and routes."""
    public_subnet_ids: tuple[str, ...] = ()
    """With a ``vpc_id`` ID: 2-6 subnets of that VPC routed to an internet gateway, one
    per AZ, for the load balancer (and, unless governed, the tasks and the probe)."""
    private_subnet_ids: tuple[str, ...] = ()
    """With a ``vpc_id`` ID and ``governed``: 2-6 subnets of that VPC, one per AZ, whose
    egress is a NAT gateway (or VPC endpoints), for the tasks and the probe."""

    def __post_init__(self) -> None:
        self._check_types()
        if self.vpc_id or self.public_subnet_ids or self.private_subnet_ids:
            self._check_existing()
        # Two AZs at least, so the VPC holds two subnets of the smallest size.
        vpc = cidr_block("network.vpc_cidr", self.vpc_cidr, SMALLEST_SUBNET - 1)
        check_range("network.az_count", self.az_count, 2, 3)
        self._check_zone_ids()
        if self.nat_gateways:
            check_choice("network.nat_gateways", self.nat_gateways, NAT_GATEWAYS)
        self._check_public(vpc)
        if self.private_subnet_cidrs:
            self._check_blocks(
                "network.private_subnet_cidrs", vpc, self.private_subnet_cidrs, self.subnets
            )

    @property
    def existing(self) -> bool:
        """Whether the stack uses an existing VPC (by ID or by Parameter)."""
        return bool(self.vpc_id)

    def _check_existing(self) -> None:
        """An existing VPC: its ID or ``parameter``, its subnets' IDs, nothing of our own."""
        if not self.vpc_id:
            key = "public_subnet_ids" if self.public_subnet_ids else "private_subnet_ids"
            raise ConfigError(
                f"network.{key}",
                "names subnets of an existing VPC, but network.vpc_id is empty; "
                "set network.vpc_id to that VPC's ID (vpc-...)",
            )
        if self.vpc_id not in (VPC_PARAMETER, VPC_HOST):
            check_pattern(
                "network.vpc_id",
                self.vpc_id,
                VPC_ID,
                f"a VPC ID (vpc- and 8 or 17 hex digits) or {VPC_PARAMETER!r}",
            )
        defaults = NetworkConfig()
        for key in OWN_VPC_KEYS:
            value = getattr(self, key)
            if value != getattr(defaults, key):
                raise ConfigError(
                    f"network.{key}",
                    f"{shown(list(value) if isinstance(value, tuple) else value)} shapes the "
                    "stack's own VPC, which network.vpc_id="
                    f"{self.vpc_id!r} replaces; leave it unset with an existing VPC",
                )
        if self.vpc_id in (VPC_PARAMETER, VPC_HOST):
            where = {
                VPC_PARAMETER: "at deploy time (PublicSubnetIds, PrivateSubnetIds)",
                VPC_HOST: "from the host template (build_stack's network=)",
            }[self.vpc_id]
            for key in ("public_subnet_ids", "private_subnet_ids"):
                if getattr(self, key):
                    raise ConfigError(
                        f"network.{key}",
                        f"is given, but network.vpc_id={self.vpc_id!r} takes the subnets "
                        f"{where}; leave it empty, or set network.vpc_id to the VPC's ID",
                    )
            return
        if not self.public_subnet_ids:
            raise ConfigError(
                "network.public_subnet_ids",
                f"is empty; network.vpc_id={self.vpc_id!r} needs 2-{MOST_SUBNETS} of its "
                "subnets routed to an internet gateway, one per AZ, for the load balancer",
            )
        self._check_subnet_ids("network.public_subnet_ids", self.public_subnet_ids, ())
        if self.private_subnet_ids:
            self._check_subnet_ids(
                "network.private_subnet_ids", self.private_subnet_ids, self.public_subnet_ids
            )

    @staticmethod
    def _check_subnet_ids(key: str, given: tuple[str, ...], others: tuple[str, ...]) -> None:
        for subnet in given:
            check_pattern(key, subnet, SUBNET_ID, "a subnet ID (subnet- and 8 or 17 hex digits)")
        if not 2 <= len(given) <= MOST_SUBNETS:
            raise ConfigError(
                key,
                f"has {len(given)} subnet(s); allowed 2-{MOST_SUBNETS}, one per "
                "Availability Zone (a load balancer needs two zones)",
            )
        for index, subnet in enumerate(given):
            if subnet in given[:index]:
                raise ConfigError(key, f"names {subnet} twice; each subnet once, one per AZ")
            if subnet in others:
                raise ConfigError(
                    key, f"names {subnet}, a public subnet too; private subnets are others"
                )

    def _check_public(self, vpc: ipaddress.IPv4Network) -> None:
        if not self.subnet_cidrs:
            carved = 2 ** (_carved_prefix(vpc) - vpc.prefixlen)
            if carved < self.az_count:
                widest = SMALLEST_SUBNET - (self.az_count - 1).bit_length()
                raise ConfigError(
                    "network.vpc_cidr",
                    f"{self.vpc_cidr!r} holds {carved} subnet(s) of /{SMALLEST_SUBNET}, the "
                    f"smallest a load balancer takes; network.az_count={self.az_count} needs "
                    f"{self.az_count}: allowed /16../{widest}",
                )
            return
        self._check_blocks("network.subnet_cidrs", vpc, self.subnet_cidrs)

    def _check_blocks(
        self,
        key: str,
        vpc: ipaddress.IPv4Network,
        blocks: tuple[str, ...],
        others: tuple[str, ...] = (),
    ) -> None:
        if len(blocks) != self.az_count:
            raise ConfigError(
                key,
                f"has {len(blocks)} blocks; network.az_count={self.az_count} "
                f"needs exactly {self.az_count}",
            )
        nets = [cidr_block(key, c, SMALLEST_SUBNET) for c in blocks]
        for net in nets:
            if not net.subnet_of(vpc):
                raise ConfigError(key, f"{net} does not fit inside network.vpc_cidr {vpc}")
        taken = [ipaddress.IPv4Network(c) for c in others]
        for i, a in enumerate(nets):
            for b in nets[i + 1 :] + taken:
                if a.overlaps(b):
                    raise ConfigError(key, f"{a} overlaps {b}")

    def _check_zone_ids(self) -> None:
        ids = self.availability_zone_ids
        if not ids:
            return
        key = "network.availability_zone_ids"
        for zone in ids:
            check_pattern(key, zone, AZ_ID, "an Availability Zone ID like use1-az1")
        if len(ids) != self.az_count:
            raise ConfigError(
                key,
                f"has {len(ids)} IDs; network.az_count={self.az_count} needs exactly "
                f"{self.az_count}",
            )
        if len(set(ids)) != len(ids):
            raise ConfigError(key, f"{list(ids)} names a zone twice; the subnets need distinct AZs")
        if len({zone.split("-az")[0] for zone in ids}) != 1:
            raise ConfigError(key, f"{list(ids)} spans Regions; all must be of one Region")

    @property
    def subnets(self) -> tuple[str, ...]:
        """The subnet blocks in AZ order, carved from the VPC when none are given."""
        if self.subnet_cidrs:
            return self.subnet_cidrs
        return carved_blocks(self.vpc_cidr)[: self.az_count]

    @property
    def private_subnets(self) -> tuple[str, ...]:
        """The private subnets' blocks (``governed``): given, or the second half's first."""
        if self.private_subnet_cidrs:
            return self.private_subnet_cidrs
        carved = carved_blocks(self.vpc_cidr)
        return carved[len(carved) // 2 :][: self.az_count]


def carved_blocks(vpc_cidr: str) -> tuple[str, ...]:
    """The blocks subnets are carved from in ``vpc_cidr`` when none are given, in order."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    return tuple(map(str, vpc.subnets(new_prefix=_carved_prefix(vpc))))


def _carved_prefix(vpc: ipaddress.IPv4Network) -> int:
    # Four bits of room: 16 subnets, so adding an AZ later never renumbers one; never
    # below SMALLEST_SUBNET.
    return min(vpc.prefixlen + 4, SMALLEST_SUBNET)


@dataclass(frozen=True, kw_only=True)
class ClusterConfig(_Section):
    """The ECS cluster's default capacity provider strategy (FARGATE and FARGATE_SPOT)."""

    section: ClassVar[str] = "cluster"

    fargate_weight: int = 1
    """Relative share of tasks placed on on-demand Fargate."""
    fargate_spot_weight: int = 1
    """Relative share of tasks placed on Fargate Spot."""
    fargate_base: int = 1
    """Tasks always placed on on-demand Fargate before the weights apply: by default
    one, so that a Spot interruption never takes the last task."""

    def __post_init__(self) -> None:
        self._check_types()
        check_range("cluster.fargate_weight", self.fargate_weight, 0, 1000)
        check_range("cluster.fargate_spot_weight", self.fargate_spot_weight, 0, 1000)
        check_range("cluster.fargate_base", self.fargate_base, 0, 100000)
        if self.fargate_weight == 0 and self.fargate_spot_weight == 0:
            raise ConfigError(
                "cluster.fargate_weight",
                "and cluster.fargate_spot_weight are both 0; at least one must be 1..1000",
            )


@dataclass(frozen=True, kw_only=True)
class ServiceConfig(_Section):
    """The ECS service running nginx. Image, size, count and retention are Parameters."""

    section: ClassVar[str] = "service"

    name: str = "nginx"
    """Container name and Cloud Map service name (a DNS label)."""
    image: str = "public.ecr.aws/docker/library/nginx:stable-alpine"
    """Default for the ``ServiceImage`` Parameter: the official image's ECR Public mirror."""
    container_port: int = 80
    """The port the container listens on."""
    cpu: int = 256
    """CPU units; with ``memory`` the default of the ``TaskSize`` Parameter."""
    memory: int = 512
    """MiB; must be a size Fargate offers with ``cpu``."""
    desired_count: int = 2
    """Default for ``MinTasks``: tasks kept running at the least; scaling adds more."""
    health_check_path: str = "/"
    """Path the target group's health check requests."""
    log_retention_days: int = 30
    """Default for ``LogRetentionDays``, applied to every log group of the stack."""
    user: str = ""
    """The container's user (``uid[:gid]`` or a name); empty runs the image's (root for
    nginx). ``governed`` requires a non-root one, e.g. ``101`` for nginx-unprivileged."""
    deployment: str = "rolling"
    """How a release reaches users: ``rolling`` (tasks replaced as they pass the health
    check), ``canary`` or ``linear`` (ECS shifts traffic between two target groups)."""
    canary_percent: float = 10.0
    """Canary: the share of production traffic the new revision gets first (0.1-100)."""
    canary_bake_minutes: int = 15
    """Canary: minutes at ``canary_percent`` before the rest of the traffic shifts."""
    linear_step_percent: float = 20.0
    """Linear: the share of traffic each step shifts (3-100)."""
    linear_step_minutes: int = 5
    """Linear: minutes between two steps."""
    bake_minutes: int = 15
    """Canary and linear: minutes at full traffic before the old revision stops; the
    rollback alarms still roll back until then."""
    writable_paths: tuple[str, ...] = ()
    """Absolute paths the container writes, each a volume of task storage (the root file
    system is read-only); empty: the profile's, nginx's ``/run`` and ``/var/cache/nginx``,
    or under ``governed`` nginx-unprivileged's ``/tmp`` and ``/var/cache/nginx``."""

    def __post_init__(self) -> None:
        self._check_types()
        if self.user:
            check_pattern("service.user", self.user, USER, "a user like 101, 101:101 or nginx")
        check_pattern(
            "service.name",
            self.name,
            DNS_LABEL,
            "a lower-case DNS label: 1-63 "
            "lower-case letters, digits and hyphens, a letter or digit at each end",
        )
        if len(self.image) > IMAGE_MAX:
            raise ConfigError(
                "service.image", f"has {len(self.image)} characters; allowed at most {IMAGE_MAX}"
            )
        check_pattern(
            "service.image",
            self.image,
            IMAGE_PATTERN,
            "an image reference like public.ecr.aws/docker/library/nginx:stable-alpine",
        )
        check_range("service.container_port", self.container_port, 1, 65535)
        check_choice("service.cpu", self.cpu, FARGATE_TASK_SIZES)
        allowed = FARGATE_TASK_SIZES[self.cpu]
        if self.memory not in allowed:
            raise ConfigError(
                "service.memory",
                f"{shown(self.memory)} is not offered by Fargate with service.cpu={self.cpu}; "
                f"allowed: {', '.join(map(str, allowed))}",
            )
        check_range("service.desired_count", self.desired_count, 1, 100)
        check_pattern("service.health_check_path", self.health_check_path, HTTP_PATH, "a path")
        check_choice("service.log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)
        check_choice("service.deployment", self.deployment, DEPLOYMENTS)
        for key, percent, low in (
            ("service.canary_percent", self.canary_percent, 0.1),
            ("service.linear_step_percent", self.linear_step_percent, 3),
        ):
            check_range(key, percent, low, 100)
            if abs(percent * 10 - round(percent * 10)) > 1e-9:
                raise ConfigError(key, f"{percent} is not allowed; allowed: multiples of 0.1")
        for key, minutes in (
            ("service.canary_bake_minutes", self.canary_bake_minutes),
            ("service.linear_step_minutes", self.linear_step_minutes),
            ("service.bake_minutes", self.bake_minutes),
        ):
            check_range(key, minutes, 0, 1440)
        writable_volumes("service.writable_paths", self.writable_paths)

    @property
    def linear_steps(self) -> int:
        """Linear: the bakes between shifts before all traffic is on the new revision."""
        return math.ceil(100 / self.linear_step_percent - 1e-9) - 1

    @property
    def shift_minutes(self) -> int:
        """Minutes from the first traffic shift to the last (0 for ``rolling``)."""
        if self.deployment == "canary":
            return self.canary_bake_minutes
        if self.deployment == "linear":
            return self.linear_steps * self.linear_step_minutes
        return 0

    @property
    def volumes(self) -> dict[str, str] | None:
        """``writable_paths`` as volume name -> path; ``None`` when empty (nginx's)."""
        if not self.writable_paths:
            return None
        return writable_volumes("service.writable_paths", self.writable_paths)


@dataclass(frozen=True, kw_only=True)
class DiscoveryConfig(_Section):
    """The Cloud Map private DNS namespace the service registers in."""

    section: ClassVar[str] = "discovery"

    namespace: str = "infra-gen.internal"
    """Private DNS namespace; the service resolves as ``<service.name>.<namespace>``."""
    dns_ttl: int = 10
    """TTL of the A records, seconds: low so callers see task replacements soon."""

    def __post_init__(self) -> None:
        self._check_types()
        labels = self.namespace.split(".")
        if len(labels) < 2 or not all(DNS_LABEL.fullmatch(label) for label in labels):
            raise ConfigError(
                "discovery.namespace",
                f"{shown(self.namespace)} is not a lower-case DNS name like infra-gen.internal",
            )
        if len(self.namespace) > DNS_NAME_MAX:
            raise ConfigError(
                "discovery.namespace",
                f"has {len(self.namespace)} characters; allowed at most {DNS_NAME_MAX} (DNS)",
            )
        check_range("discovery.dns_ttl", self.dns_ttl, 1, 3600)


@dataclass(frozen=True, kw_only=True)
class ProbeConfig(_Section):
    """The scheduled Lambda that probes every task found through Cloud Map."""

    section: ClassVar[str] = "probe"

    schedule: str = "rate(1 minute)"
    """Default for the ``ProbeSchedule`` Parameter, one of ``PROBE_SCHEDULES``."""
    request_timeout_seconds: float = 2.0
    """Total deadline of one request (connect, headers, body)."""
    path: str = "/"
    """Path requested on each task."""
    max_body_bytes: int = 65536
    """A larger response body counts as a failed probe."""
    metric_namespace: str = "InfraGen/Probe"
    """CloudWatch namespace of the probe's custom metrics."""
    memory_mb: int = 128
    """The function's memory."""

    def __post_init__(self) -> None:
        self._check_types()
        check_choice("probe.schedule", self.schedule, PROBE_SCHEDULES)
        check_range("probe.request_timeout_seconds", self.request_timeout_seconds, 0.1, 30)
        check_pattern("probe.path", self.path, PROBE_PATH, "a path without a comma")
        check_range("probe.max_body_bytes", self.max_body_bytes, 1, 10 * 1024 * 1024)
        check_pattern(
            "probe.metric_namespace",
            self.metric_namespace,
            METRIC_NAMESPACE,
            "a CloudWatch namespace (1-255 of letters, digits and . - _ / # : space, "
            "not only spaces)",
        )
        if self.metric_namespace.startswith("AWS/"):
            raise ConfigError("probe.metric_namespace", "the AWS/ prefix is reserved by AWS")
        check_range("probe.memory_mb", self.memory_mb, 128, 10240)

    @property
    def function_timeout_seconds(self) -> int:
        """Lambda timeout: name resolution and one request, both bounded, plus start-up."""
        return int(2 * self.request_timeout_seconds) + 5


@dataclass(frozen=True, kw_only=True)
class AlarmsConfig(_Section):
    """Thresholds of the CloudWatch alarms; see docs/alarms.md for what each one watches."""

    section: ClassVar[str] = "alarms"

    period_seconds: int = 60
    """Period of every alarm's metric."""
    evaluation_periods: int = 5
    """Periods looked at per evaluation."""
    datapoints_to_alarm: int = 3
    """Breaching periods among ``evaluation_periods`` that raise the alarm."""
    probe_failed_requests: int = 1
    """Failed probe requests per period that count as breaching."""
    error_rate_percent: float = 1.0
    """Load balancer and target 5xx responses, percent of the period's requests."""
    min_requests: int = 10
    """Requests a period needs before its error rate counts; fewer read as 0 %."""
    response_time_seconds: float = 1.0
    """p90 target response time."""
    cpu_percent: float = 80.0
    """Service average CPU utilisation."""
    memory_percent: float = 80.0
    """Service average memory utilisation."""
    probe_missing_minutes: int = 5
    """The probe-not-running alarm fires after this long without an invocation."""
    email: str = ""
    """Default for the ``AlarmEmail`` Parameter; empty sends to no one but the topic."""

    def __post_init__(self) -> None:
        self._check_types()
        if self.period_seconds in (10, 20, 30):
            raise ConfigError(
                "alarms.period_seconds",
                f"{self.period_seconds} needs high-resolution metrics, and every metric the "
                "alarms watch is standard resolution; allowed: "
                + ", ".join(map(str, ALARM_PERIODS)),
            )
        check_choice("alarms.period_seconds", self.period_seconds, ALARM_PERIODS)
        check_range("alarms.evaluation_periods", self.evaluation_periods, 1, 100)
        window = self.period_seconds * self.evaluation_periods
        longest = evaluation_limit(self.period_seconds)
        if window > longest:
            raise ConfigError(
                "alarms.evaluation_periods",
                f"{self.evaluation_periods} periods of alarms.period_seconds="
                f"{self.period_seconds} make a {window} s window; CloudWatch allows at most "
                f"{longest} s: allowed 1..{longest // self.period_seconds}",
            )
        check_range(
            "alarms.datapoints_to_alarm", self.datapoints_to_alarm, 1, self.evaluation_periods
        )
        check_range("alarms.probe_failed_requests", self.probe_failed_requests, 1, 1000)
        check_range("alarms.error_rate_percent", self.error_rate_percent, 0.01, 100)
        check_range("alarms.min_requests", self.min_requests, 1, 1000000)
        check_range("alarms.response_time_seconds", self.response_time_seconds, 0.01, 60)
        check_range("alarms.cpu_percent", self.cpu_percent, 1, 100)
        check_range("alarms.memory_percent", self.memory_percent, 1, 100)
        check_range("alarms.probe_missing_minutes", self.probe_missing_minutes, 1, 1440)
        if self.email:
            problem = email_problem(self.email)
            if problem:
                raise ConfigError(
                    "alarms.email", f"{shown(self.email)} is not an e-mail address: {problem}"
                )


@dataclass(frozen=True, kw_only=True)
class ScalingConfig(_Section):
    """Target tracking auto scaling of the service between ``MinTasks`` and ``MaxTasks``."""

    section: ClassVar[str] = "scaling"

    max_tasks: int = 10
    """Default for ``MaxTasks``; also the ceiling of ``MinTasks`` and floor of ``MaxTasks``,
    so that no pair of deploy-time values puts the minimum above the maximum."""
    cpu_percent: float = 60.0
    """Average service CPU that scaling keeps the service at."""
    requests_per_target: int = 1000
    """Load balancer requests per task per minute that scaling keeps the service at."""
    scale_out_cooldown_seconds: int = 60
    """Wait after a scale-out before the next one: about a task's start-up time."""
    scale_in_cooldown_seconds: int = 300
    """Wait after a scale-in before the next one: slow, so a dip does not drop capacity."""

    def __post_init__(self) -> None:
        self._check_types()
        check_range("scaling.max_tasks", self.max_tasks, 1, 100)
        check_range("scaling.cpu_percent", self.cpu_percent, 10, 90)
        check_range("scaling.requests_per_target", self.requests_per_target, 1, 1000000)
        check_range("scaling.scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600)
        check_range("scaling.scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0, 3600)


@dataclass(frozen=True, kw_only=True)
class SecurityConfig(_Section):
    """Hardening switches; each one that costs money is off by default."""

    section: ClassVar[str] = "security"

    flow_logs: bool = False
    """VPC flow logs (all traffic) to a CloudWatch log group."""
    kms_logs: bool = False
    """Encrypt every log group with a customer managed KMS key of the stack."""
    alb_access_logs: bool = False
    """ALB access logs to an S3 bucket of the stack (retained on stack deletion)."""

    def __post_init__(self) -> None:
        self._check_types()


@dataclass(frozen=True, kw_only=True)
class DomainConfig(_Section):
    """The service's own DNS name: a certificate, an alias record to the load balancer and
    HTTPS, HTTP only redirecting. Empty by default: the load balancer's own name."""

    section: ClassVar[str] = "domain"

    name: str = ""
    """The name the service answers on, e.g. ``www.example.com`` or the zone's apex
    ``example.com``: lower-case, without the trailing dot; at most 64 characters when the
    stack requests its certificate (ACM's limit on a certificate's first name). Requires
    ``hosted_zone_id``."""
    hosted_zone_id: str = ""
    """The ID of the Route 53 public hosted zone of ``name``, in the stack's account
    (``Z`` and upper-case letters and digits, without ``/hostedzone/``): the alias record
    goes there, and CloudFormation writes the certificate's validation record there."""
    certificate_arn: str = ""
    """An ACM certificate made elsewhere that covers ``name`` (in the stack's Region):
    the stack then requests none and serves this one. Empty: the stack requests a
    certificate for ``name``, validated in DNS."""

    def __post_init__(self) -> None:
        self._check_types()
        if self.name:
            problem = dns_name_problem(self.name)
            if problem:
                raise ConfigError("domain.name", f"{shown(self.name)} is not a DNS name: {problem}")
            if not self.certificate_arn and len(self.name) > ACM_DOMAIN_MAX:
                raise ConfigError(
                    "domain.name",
                    f"has {len(self.name)} characters; ACM issues a certificate's first name "
                    f"of at most {ACM_DOMAIN_MAX}: allowed at most {ACM_DOMAIN_MAX}, or a "
                    "certificate made elsewhere as domain.certificate_arn",
                )
        if self.hosted_zone_id:
            if self.hosted_zone_id.startswith("/hostedzone/"):
                raise ConfigError(
                    "domain.hosted_zone_id",
                    f"{shown(self.hosted_zone_id)}: write the ID without /hostedzone/",
                )
            check_pattern(
                "domain.hosted_zone_id",
                self.hosted_zone_id,
                HOSTED_ZONE_ID,
                "a Route 53 hosted zone ID: Z and up to 31 upper-case letters and digits, "
                "e.g. Z0123456789ABCDEFGHIJ",
            )
        if self.certificate_arn:
            check_pattern(
                "domain.certificate_arn",
                self.certificate_arn,
                ACM_ARN,
                "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
            )
        self._check_together()

    def _check_together(self) -> None:
        if self.name and not self.hosted_zone_id:
            raise ConfigError(
                "domain.hosted_zone_id",
                f"is empty while domain.name is {self.name!r}; allowed: the ID of the public "
                "hosted zone that holds the name, e.g. Z0123456789ABCDEFGHIJ",
            )
        for key in ("hosted_zone_id", "certificate_arn"):
            if getattr(self, key) and not self.name:
                raise ConfigError(
                    f"domain.{key}",
                    "is given while domain.name is empty; give the name too"
                    + (
                        ", or, without a domain, the certificate at deploy time as the "
                        "CertificateArn Parameter"
                        if key == "certificate_arn"
                        else ""
                    ),
                )


# Settings outside any table, and their types.
TOP_LEVEL: dict[str, type] = {"governed": bool}

SECTIONS: dict[str, type[_Section]] = {
    "network": NetworkConfig,
    "cluster": ClusterConfig,
    "service": ServiceConfig,
    "discovery": DiscoveryConfig,
    "probe": ProbeConfig,
    "alarms": AlarmsConfig,
    "scaling": ScalingConfig,
    "security": SecurityConfig,
    "domain": DomainConfig,
}
