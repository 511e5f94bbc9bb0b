"""The stack's configuration: frozen, typed, validated once at construction.

Every field documents its default; the defaults deploy as they are. Errors are
:class:`ConfigError` with one line naming the dotted key, the bad value and what
is allowed. Concern modules trust a constructed :class:`Config`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import posixpath
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ConfigError, shown

if TYPE_CHECKING:
    from troposphere import Template

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
    "LOG_RETENTION_DAYS",
    "PROBE_SCHEDULES",
    "check_environment",
    "check_secrets",
    "check_writable_paths",
    "held_by",
    "parse_setting",
    "parse_toml",
]


def _mib_range(start_gib: int, stop_gib: int, step_gib: int) -> tuple[int, ...]:
    return tuple(g * 1024 for g in range(start_gib, stop_gib + 1, step_gib))


# Fargate's supported task sizes (Linux): CPU units -> allowed memory in MiB.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_TASK_SIZES: Mapping[int, tuple[int, ...]] = types.MappingProxyType(
    {
        256: (512, 1024, 2048),
        512: _mib_range(1, 4, 1),
        1024: _mib_range(2, 8, 1),
        2048: _mib_range(4, 16, 1),
        4096: _mib_range(8, 30, 1),
        8192: _mib_range(16, 60, 4),
        16384: _mib_range(32, 120, 8),
    }
)

# The values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# The probe's schedules (EventBridge rate expressions) and their minutes between runs.
# A closed list: every value is one EventBridge accepts, and the probe-not-running
# alarm can be checked against each.
PROBE_SCHEDULES: Mapping[str, int] = types.MappingProxyType(
    {
        "rate(1 minute)": 1,
        "rate(2 minutes)": 2,
        "rate(5 minutes)": 5,
        "rate(10 minutes)": 10,
        "rate(15 minutes)": 15,
        "rate(30 minutes)": 30,
        "rate(1 hour)": 60,
    }
)

# registry/repository[:tag][@sha256:digest]; path components and their separators
# (".", "_", "__", one or more "-") as the OCI distribution spec defines them.
IMAGE_PATTERN = (
    r"^([a-zA-Z0-9.-]+(:[0-9]+)?/)?"
    r"[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)

# ECS: a container definition's image is at most 255 characters.
_IMAGE_MAX = 255
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# RFC 1035: a name is at most 253 characters written out (255 octets on the wire).
_DNS_NAME_MAX = 253
# Characters no value may hold: C0 and C1 controls, DEL, and the Unicode line and
# paragraph separators (YAML treats them as line breaks).
# An ALB needs each of its subnets to be a /27 or larger, with 8 free addresses, to scale:
# docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html
SMALLEST_SUBNET = 27

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# IPv4 ranges a VPC cannot use.
_NOT_FOR_A_VPC = {
    ipaddress.IPv4Network("0.0.0.0/8"): "'this network'",
    ipaddress.IPv4Network("127.0.0.0/8"): "loopback",
    ipaddress.IPv4Network("169.254.0.0/16"): "link-local",
    ipaddress.IPv4Network("224.0.0.0/4"): "multicast",
    ipaddress.IPv4Network("240.0.0.0/4"): "reserved",
}
# Every metric the alarms watch is stored at standard (one-minute) resolution, so
# shorter periods would only produce missing data.
ALARM_PERIODS: tuple[int, ...] = (60, 300, 900, 3600)
# PutMetricAlarm: Period x EvaluationPeriods at most one day for periods under an
# hour, at most seven days otherwise.
_ALARM_WINDOW_MAX_SHORT = 86_400
_ALARM_WINDOW_MAX = 604_800
# TOML nests arrays and tables; the configuration needs two levels. Deeper input is
# refused before the parser's recursion runs out.
_TOML_MAX_NESTING = 32
# CloudWatch: at least one character that is not white space.
_METRIC_NAMESPACE = re.compile(r"^(?=.*[^ ])[A-Za-z0-9 ._#:/-]{1,255}$")
_HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}$")
# An address SNS can deliver to: a dot-atom local part (RFC 5322; letters beyond ASCII
# allowed, RFC 6531) and an ASCII domain of DNS labels (IDNA: written as xn--...).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_LOCAL = re.compile(rf"{_ATEXT}(\.{_ATEXT})*")
_EMAIL_DOMAIN = re.compile(
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]"
)
_EMAIL_MAX = 254  # RFC 5321: the longest path, less its angle brackets
_EMAIL_LOCAL_MAX = 64
# A CIDR block written with a prefix length: ipaddress also takes 10.0.0.0/255.255.0.0.
_CIDR_TEXT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}")
NAT_GATEWAYS = ("per_az", "one")
# A container user as ECS takes it: user, uid, user:group or uid:gid.
_USER = re.compile(
    r"^[a-z_][a-z0-9_.-]{0,31}(:[a-z_][a-z0-9_.-]{0,31})?$|^[0-9]{1,10}(:[0-9]{1,10})?$"
)
_ROOT_USER = re.compile(r"^(0|root)(:.*)?$")  # CT.ECS.PR.3's root patterns
# An Availability Zone ID: the Region's short code and the zone number, e.g. use1-az1.
_AZ_ID = re.compile(r"^[a-z]{2,}[0-9]+-az[0-9]+$")


# The periods the per-run probe alarms choose from: standard CloudWatch periods, few
# so that the template picks one with few conditions.
PROBE_ALARM_PERIODS: tuple[int, ...] = (60, 300, 900, 3600)


def probe_alarm_period(period_seconds: int, schedule_minutes: int) -> int:
    """Period of the per-run probe alarms: the shortest of ``PROBE_ALARM_PERIODS`` that
    holds at least one run of the schedule and is at least ``alarms.period_seconds``."""
    floor = max(period_seconds, 60 * schedule_minutes)
    return min(p for p in PROBE_ALARM_PERIODS if p >= floor)


def evaluation_limit(period_seconds: int) -> int:
    """Longest Period x EvaluationPeriods CloudWatch accepts for an alarm, in seconds."""
    return 86400 if period_seconds < 3600 else 7 * 86400


def email_problem(address: str) -> str | None:
    """Why ``address`` is not one SNS can deliver to, or None when it is."""
    if len(address) > _EMAIL_MAX:
        return f"{len(address)} characters; allowed at most {_EMAIL_MAX}"
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return "expected local-part@domain"
    if len(local) > _EMAIL_LOCAL_MAX:
        return f"the part before @ has {len(local)} characters; allowed at most {_EMAIL_LOCAL_MAX}"
    ascii_local = "".join(ch if ord(ch) < 0x80 or not ch.isalnum() else "a" for ch in local)
    if not _EMAIL_LOCAL.fullmatch(ascii_local):
        return (
            "the part before @ allows letters, digits, !#$%&'*+/=?^_`{|}~- and single "
            "dots between them"
        )
    if not domain.isascii():
        return "the domain is not ASCII; write it in its IDNA form (xn--...)"
    if len(domain) > _DNS_NAME_MAX or not _EMAIL_DOMAIN.fullmatch(domain):
        return "the domain must be DNS labels of letters, digits and hyphens, e.g. example.com"
    return None


# A container environment variable's name, as shells and ECS take it.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
# What a container's secret comes from: a Secrets Manager secret's full ARN (with an
# optional ":json-key:version-stage:version-id" that ECS reads and IAM does not), or an
# SSM parameter's ARN.
_SECRET_ARN = re.compile(
    r"arn:aws(-cn|-us-gov)?:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+"
    r"(:[^:]*:[^:]*:[^:]*)?"
)
_PARAMETER_ARN = re.compile(
    r"arn:aws(-cn|-us-gov)?:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9/_.-]+"
)
# SSM: a parameter's name, written as its whole ARN, is at most 1011 characters; Secrets
# Manager: a secret's ARN at most 2048.
_PARAMETER_ARN_MAX = 1011
_SECRET_ARN_MAX = 2048


def _check_names(key: str, values: object) -> Mapping[str, Any]:
    if not isinstance(values, Mapping):
        raise ConfigError(key, f"expected a mapping of NAME to value, got {type(values).__name__}")
    for name in values:
        if not (isinstance(name, str) and _ENV_NAME.fullmatch(name)):
            raise ConfigError(
                f"{key}.{name}", "is not a variable name; allowed: letters, digits and _"
            )
    return values


def check_environment(key: str, variables: object) -> dict[str, str]:
    """``variables`` as a container's environment (name -> text), else a
    :class:`ConfigError` naming ``<key>.<NAME>``."""
    for name, value in _check_names(key, variables).items():
        if not isinstance(value, str):
            raise ConfigError(f"{key}.{name}", f"{shown(value)} is not allowed; allowed: text")
        _check_text(f"{key}.{name}", value)
    return {str(k): str(v) for k, v in _check_names(key, variables).items()}


def check_secrets(key: str, secrets: object) -> dict[str, str]:
    """``secrets`` as a container's secrets (name -> Secrets Manager secret or SSM
    parameter ARN), else a :class:`ConfigError` naming ``<key>.<NAME>``."""
    for name, arn in _check_names(key, secrets).items():
        if isinstance(arn, str):
            _check_text(f"{key}.{name}", arn)  # a JSON key may hold anything but ":"
        if not isinstance(arn, str) or not (
            _SECRET_ARN.fullmatch(arn) or _PARAMETER_ARN.fullmatch(arn)
        ):
            raise ConfigError(
                f"{key}.{name}",
                f"{shown(arn)} is not allowed; allowed: the ARN of a Secrets Manager secret "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>) or of an SSM "
                "parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)",
            )
        limit = _PARAMETER_ARN_MAX if _PARAMETER_ARN.fullmatch(arn) else _SECRET_ARN_MAX
        resource = ":".join(arn.split(":")[:7])  # without a secret's JSON key and version
        if len(resource) > limit:
            raise ConfigError(
                f"{key}.{name}",
                f"{shown(arn)} is an ARN of {len(resource)} characters; allowed at most {limit}",
            )
    return {str(k): str(v) for k, v in _check_names(key, secrets).items()}


# A logical ID as CloudFormation takes it: 1-255 letters and digits.
LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")


def held_by(t: Template, logical_id: str) -> str | None:
    """What in ``t`` already holds ``logical_id``: a resource's type, ``"Parameter"`` or
    ``"Output"``; ``None`` when it is free."""
    taken = t.resources.get(logical_id)
    if taken is not None:
        return str(taken.resource_type)
    return (
        "Parameter"
        if logical_id in t.parameters
        else ("Output" if logical_id in t.outputs else None)
    )


# ECS: a volume's name is 1-255 letters, digits, _ and -.
_VOLUME_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
# Linux's PATH_MAX (4096 bytes) less the terminating NUL.
_PATH_MAX = 4095


def check_writable_paths(key: str, paths: object) -> dict[str, str]:
    """``paths`` as a container's writable task storage (volume name -> the absolute path
    the image writes), else a :class:`ConfigError` naming ``<key>.<name>``."""
    if not isinstance(paths, Mapping):
        raise ConfigError(
            key, f"expected a mapping of volume name to container path, got {type(paths).__name__}"
        )
    taken: dict[str, str] = {}
    for name, path in paths.items():
        where = f"{key}.{name}"
        if not (isinstance(name, str) and _VOLUME_NAME.fullmatch(name)):
            raise ConfigError(
                where, "is not a volume name; allowed: 1-255 letters, digits, _ and -"
            )
        if isinstance(path, str):
            _check_text(where, path)
        # Docker refuses a relative path and / itself; ".." and "//" would name another
        # path than the one written, and two volumes on one path fail at task start.
        if not (
            isinstance(path, str)
            and path.startswith("/")
            and not path.startswith("//")
            and path != "/"
            and posixpath.normpath(path) == path
            and len(path) <= _PATH_MAX
        ):
            raise ConfigError(
                where,
                f"{shown(path)} is not allowed; allowed: an absolute path "
                "in normal form (no . or .. parts, no trailing /), not /, at most "
                f"{_PATH_MAX} characters, e.g. /var/cache/nginx",
            )
        if path in taken:
            raise ConfigError(
                where,
                f"{path!r} is the path of {key}.{taken[path]} too; allowed: one volume a path",
            )
        taken[path] = name
    return {str(k): str(v) for k, v in paths.items()}


def _check_range(key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(key, f"{shown(value)} is out of range; allowed {low}..{high}")


def _check_choice(key: str, value: object, allowed: typing.Iterable[object]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(
            key, f"{shown(value)} is not allowed; allowed: {', '.join(map(str, allowed))}"
        )


def _check_pattern(key: str, value: str, pattern: str | re.Pattern[str], what: str) -> None:
    if not re.fullmatch(pattern, value):
        raise ConfigError(key, f"{shown(value)} is not {what}")


def _check_text(key: str, value: str) -> None:
    if _SURROGATE.search(value):
        # What Python makes of bytes that are not UTF-8 in argv or the environment.
        raise ConfigError(key, f"{shown(value)} is not valid UTF-8; allowed: UTF-8 text only")
    found = _CONTROL.search(value)
    if found:
        raise ConfigError(
            key,
            f"{shown(value)} contains the control character U+{ord(found[0]):04X}; "
            "allowed: printable characters only",
        )


def _network(key: str, value: str, smallest: int) -> ipaddress.IPv4Network:
    try:
        if not _CIDR_TEXT.fullmatch(value):
            raise ValueError(value)
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ConfigError(
            key, f"{shown(value)} is not an IPv4 CIDR block like 10.0.0.0/16"
        ) from None
    if not 16 <= net.prefixlen <= smallest:
        raise ConfigError(key, f"{value!r} has prefix /{net.prefixlen}; allowed /16../{smallest}")
    for reserved, what in _NOT_FOR_A_VPC.items():
        if net.subnet_of(reserved):
            raise ConfigError(
                key,
                f"{value!r} is in {reserved} ({what}), which a VPC cannot use; "
                "allowed: a private range such as 10.0.0.0/16, 172.16.0.0/16 or 192.168.0.0/16",
            )
    return net


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
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


def _type_name(expected: Any) -> str:
    if typing.get_origin(expected) is tuple:
        return f"a list of {_TYPE_NAMES[typing.get_args(expected)[0]].split(' ', 1)[1]}s"
    return _TYPE_NAMES[expected]


class _Section:
    """Shared behaviour of the config sections: type checks and mapping input."""

    section: ClassVar[str]

    def _check_types(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            key = f"{self.section}.{f.name}"
            value = given = getattr(self, f.name)
            if typing.get_origin(hints[f.name]) is tuple and isinstance(value, list):
                # A list is the natural spelling in Python as in TOML; stored as a tuple.
                value = tuple(value)
                object.__setattr__(self, f.name, value)
            if not _type_ok(value, hints[f.name]):
                raise ConfigError(key, f"expected {_type_name(hints[f.name])}, got {shown(given)}")
            for text in value if isinstance(value, tuple) else (value,):
                if isinstance(text, str):
                    _check_text(key, text)
            if hints[f.name] is float and isinstance(value, int):
                # One canonical form: `80` and `80.0` are the same setting and render alike.
                try:
                    object.__setattr__(self, f.name, float(value))
                except OverflowError:
                    pass  # the range check names it

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Any:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key in _sorted_keys(data, f"{cls.section}.", names):
            if key not in names:
                raise ConfigError(f"{cls.section}.{key}", _unknown(key, names))
        return cls(**data)


def _sorted_keys(data: Mapping[Any, Any], prefix: str, allowed: list[str]) -> list[str]:
    """``data``'s keys, sorted. One that is not text is an unknown key, named by its repr:
    sorting keys of mixed types would raise TypeError."""
    for key in data:
        if not isinstance(key, str):
            raise ConfigError(prefix + shown(key), _unknown(shown(key), allowed))
    return sorted(data)


def _unknown(key: str, allowed: list[str]) -> str:
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

    def __post_init__(self) -> None:
        self._check_types()
        # Two AZs at least, so the VPC holds two subnets of the smallest size.
        vpc = _network("network.vpc_cidr", self.vpc_cidr, SMALLEST_SUBNET - 1)
        _check_range("network.az_count", self.az_count, 2, 3)
        self._check_zone_ids()
        if self.nat_gateways:
            _check_choice("network.nat_gateways", self.nat_gateways, NAT_GATEWAYS)
        self._check_public(vpc)
        if self.private_subnet_cidrs:
            self._check_blocks(
                "network.private_subnet_cidrs", vpc, self.private_subnet_cidrs, self.subnets
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
        nets = [_network(key, c, SMALLEST_SUBNET) for c in blocks]
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
            _check_pattern(key, zone, _AZ_ID, "an Availability Zone ID like use1-az1")
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
        return self._carved()[: self.az_count]

    @property
    def private_subnets(self) -> tuple[str, ...]:
        """The private subnets' blocks (``governed``): given, or the second half's first."""
        if self.private_subnet_cidrs:
            return self.private_subnet_cidrs
        carved = self._carved()
        return carved[len(carved) // 2 :][: self.az_count]

    def _carved(self) -> tuple[str, ...]:
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
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
        _check_range("cluster.fargate_weight", self.fargate_weight, 0, 1000)
        _check_range("cluster.fargate_spot_weight", self.fargate_spot_weight, 0, 1000)
        _check_range("cluster.fargate_base", self.fargate_base, 0, 100000)
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

    def __post_init__(self) -> None:
        self._check_types()
        if self.user:
            _check_pattern("service.user", self.user, _USER, "a user like 101, 101:101 or nginx")
        _check_pattern(
            "service.name",
            self.name,
            _DNS_LABEL,
            "a lower-case DNS label: 1-63 "
            "lower-case letters, digits and hyphens, a letter or digit at each end",
        )
        if len(self.image) > _IMAGE_MAX:
            raise ConfigError(
                "service.image", f"has {len(self.image)} characters; allowed at most {_IMAGE_MAX}"
            )
        _check_pattern(
            "service.image",
            self.image,
            IMAGE_PATTERN,
            "an image reference like public.ecr.aws/docker/library/nginx:stable-alpine",
        )
        _check_range("service.container_port", self.container_port, 1, 65535)
        _check_choice("service.cpu", self.cpu, FARGATE_TASK_SIZES)
        allowed = FARGATE_TASK_SIZES[self.cpu]
        if self.memory not in allowed:
            raise ConfigError(
                "service.memory",
                f"{shown(self.memory)} is not offered by Fargate with service.cpu={self.cpu}; "
                f"allowed: {', '.join(map(str, allowed))}",
            )
        _check_range("service.desired_count", self.desired_count, 1, 100)
        _check_pattern("service.health_check_path", self.health_check_path, _HTTP_PATH, "a path")
        _check_choice("service.log_retention_days", self.log_retention_days, LOG_RETENTION_DAYS)


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
        if len(labels) < 2 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
            raise ConfigError(
                "discovery.namespace",
                f"{shown(self.namespace)} is not a lower-case DNS name like infra-gen.internal",
            )
        if len(self.namespace) > _DNS_NAME_MAX:
            raise ConfigError(
                "discovery.namespace",
                f"has {len(self.namespace)} characters; allowed at most {_DNS_NAME_MAX} (DNS)",
            )
        _check_range("discovery.dns_ttl", self.dns_ttl, 1, 3600)


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
        _check_choice("probe.schedule", self.schedule, PROBE_SCHEDULES)
        _check_range("probe.request_timeout_seconds", self.request_timeout_seconds, 0.1, 30)
        _check_pattern("probe.path", self.path, _HTTP_PATH, "a path")
        _check_range("probe.max_body_bytes", self.max_body_bytes, 1, 10 * 1024 * 1024)
        _check_pattern(
            "probe.metric_namespace",
            self.metric_namespace,
            _METRIC_NAMESPACE,
            "a CloudWatch namespace (1-255 of letters, digits and . - _ / # : space, "
            "not only spaces)",
        )
        if self.metric_namespace.startswith("AWS/"):
            raise ConfigError("probe.metric_namespace", "the AWS/ prefix is reserved by AWS")
        _check_range("probe.memory_mb", self.memory_mb, 128, 10240)

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
    alb_5xx_count: int = 5
    """Load balancer and target 5xx responses per period."""
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
        _check_choice("alarms.period_seconds", self.period_seconds, ALARM_PERIODS)
        _check_range("alarms.evaluation_periods", self.evaluation_periods, 1, 100)
        window = self.period_seconds * self.evaluation_periods
        longest = _ALARM_WINDOW_MAX_SHORT if self.period_seconds < 3600 else _ALARM_WINDOW_MAX
        if window > longest:
            raise ConfigError(
                "alarms.evaluation_periods",
                f"{self.evaluation_periods} periods of alarms.period_seconds="
                f"{self.period_seconds} make a {window} s window; CloudWatch allows at most "
                f"{longest} s: allowed 1..{longest // self.period_seconds}",
            )
        _check_range(
            "alarms.datapoints_to_alarm", self.datapoints_to_alarm, 1, self.evaluation_periods
        )
        _check_range("alarms.probe_failed_requests", self.probe_failed_requests, 1, 1000)
        _check_range("alarms.alb_5xx_count", self.alb_5xx_count, 1, 100000)
        _check_range("alarms.response_time_seconds", self.response_time_seconds, 0.01, 60)
        _check_range("alarms.cpu_percent", self.cpu_percent, 1, 100)
        _check_range("alarms.memory_percent", self.memory_percent, 1, 100)
        _check_range("alarms.probe_missing_minutes", self.probe_missing_minutes, 1, 1440)
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
        _check_range("scaling.max_tasks", self.max_tasks, 1, 100)
        _check_range("scaling.cpu_percent", self.cpu_percent, 10, 90)
        _check_range("scaling.requests_per_target", self.requests_per_target, 1, 1000000)
        _check_range("scaling.scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600)
        _check_range("scaling.scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0, 3600)


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


# Settings outside any table, and their types.
_TOP_LEVEL: dict[str, type] = {"governed": bool}

_SECTIONS: dict[str, type[_Section]] = {
    "network": NetworkConfig,
    "cluster": ClusterConfig,
    "service": ServiceConfig,
    "discovery": DiscoveryConfig,
    "probe": ProbeConfig,
    "alarms": AlarmsConfig,
    "scaling": ScalingConfig,
    "security": SecurityConfig,
}


@dataclass(frozen=True, kw_only=True)
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
    governed: bool = False
    """The governed profile (top-level ``governed = true``): tasks in private subnets
    behind NAT gateways, a non-root user, HTTPS only, deletion protection and access
    logs on, retained logs; it passes the Control Tower proactive controls docs/security.md lists.
    It turns on ``security.alb_access_logs`` and defaults ``network.nat_gateways`` to
    ``per_az``; it requires AZ IDs, an image pinned by digest, ``service.user`` and a
    ``service.container_port`` of 1024 or more."""

    def __post_init__(self) -> None:
        for name, cls in _SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(name, f"expected a {cls.__name__}")
        if not isinstance(self.governed, bool):
            raise ConfigError("governed", f"expected true or false, got {shown(self.governed)}")
        if self.governed:
            self._check_governed()
        else:
            for key in ("nat_gateways", "private_subnet_cidrs"):
                if getattr(self.network, key):
                    raise ConfigError(
                        f"network.{key}",
                        "sets up private subnets, which only governed = true "
                        "has; leave it empty or set governed = true",
                    )
        fqdn = f"{self.service.name}.{self.discovery.namespace}"
        if len(fqdn) > _DNS_NAME_MAX:
            raise ConfigError(
                "discovery.namespace",
                f"makes the service's name {shown(fqdn, 40)} {len(fqdn)} characters long "
                f"with service.name; allowed at most {_DNS_NAME_MAX} (DNS)",
            )
        interval = PROBE_SCHEDULES[self.probe.schedule]
        if self.alarms.probe_missing_minutes < interval:
            raise ConfigError(
                "alarms.probe_missing_minutes",
                f"{self.alarms.probe_missing_minutes} is shorter than probe.schedule "
                f"{self.probe.schedule!r}; allowed {interval}..1440",
            )
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

    def _check_governed(self) -> None:
        """Refuse what would break a control of the governed profile; fill its defaults."""
        net, svc = self.network, self.service
        if not net.availability_zone_ids:
            raise ConfigError(
                "network.availability_zone_ids",
                "is empty; governed = true requires AZ IDs, so "
                "that no update moves a subnet to another zone",
            )
        if net.subnet_cidrs and not net.private_subnet_cidrs:
            raise ConfigError(
                "network.private_subnet_cidrs",
                "is empty while network.subnet_cidrs is given; "
                f"governed = true needs {net.az_count} private blocks too",
            )
        if not net.subnet_cidrs and len(net._carved()) < 2 * net.az_count:
            raise ConfigError(
                "network.vpc_cidr",
                f"{net.vpc_cidr!r} holds too few subnets of "
                f"/{SMALLEST_SUBNET} for {net.az_count} public and {net.az_count} private "
                f"ones (governed = true): allowed /16../{SMALLEST_SUBNET - 2}",
            )
        if "@sha256:" not in svc.image:
            raise ConfigError(
                "service.image",
                f"{shown(svc.image)} is not pinned by digest; governed = true "
                "requires repository@sha256:<digest>, so every task runs the reviewed bytes",
            )
        if not svc.user or _ROOT_USER.match(svc.user):
            raise ConfigError(
                "service.user",
                f"{svc.user or 'empty (the image user)'} breaks CT.ECS.PR.3 "
                "(a non-root user) under governed = true; allowed: a non-root user such as 101",
            )
        if svc.container_port < 1024:
            raise ConfigError(
                "service.container_port",
                f"{svc.container_port} needs root to bind, which "
                "CT.ECS.PR.3 refuses under governed = true; allowed 1024..65535, e.g. 8080",
            )
        if not net.nat_gateways:
            object.__setattr__(self, "network", dataclasses.replace(net, nat_gateways="per_az"))
        if not self.security.alb_access_logs:
            # CT.ELASTICLOADBALANCING.PR.6: access logging is part of the profile.
            object.__setattr__(
                self, "security", dataclasses.replace(self.security, alb_access_logs=True)
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Config:
        """Build from nested mappings as read from TOML: ``{"service": {"cpu": 512}}``."""
        sections: dict[str, Any] = {}
        for name in _sorted_keys(data, "", [*_TOP_LEVEL, *_SECTIONS]):
            if name in _TOP_LEVEL:
                sections[name] = data[name]
                continue
            if name not in _SECTIONS:
                raise ConfigError(name, _unknown(name, [*_TOP_LEVEL, *_SECTIONS]))
            value = data[name]
            if not isinstance(value, Mapping):
                raise ConfigError(name, f"expected a table of keys, got {shown(value)}")
            sections[name] = _SECTIONS[name].from_mapping(value)
        return cls(**sections)

    def with_changes(self, changes: Mapping[str, Any]) -> Config:
        """A copy with ``changes`` (nested like ``from_mapping``'s input) applied, validated
        again as a whole: ``cfg.with_changes({"service": {"cpu": 512, "memory": 1024}})``.

        Keys not named keep their values; a bad key or value raises :class:`ConfigError`.
        """
        if not isinstance(changes, Mapping):
            raise ConfigError("config", f"expected a mapping of sections, got {shown(changes)}")
        merged: dict[str, Any] = self.to_mapping()
        for name in _sorted_keys(changes, "", [*_TOP_LEVEL, *_SECTIONS]):
            value = changes[name]
            if name in merged and isinstance(value, Mapping):
                merged[name] = {**merged[name], **value}
            else:
                merged[name] = value  # from_mapping names what is wrong with it
        return Config.from_mapping(merged)

    def to_mapping(self) -> dict[str, Any]:
        """The nested mapping form, as ``from_mapping`` reads it."""
        sections = {name: dataclasses.asdict(getattr(self, name)) for name in _SECTIONS}
        return {"governed": self.governed, **sections}

    def digest(self) -> str:
        """SHA-256 (hex) of the canonical form: every setting, keys sorted, compact JSON.

        Equal configurations have equal digests, however they were written.
        """
        canonical = json.dumps(
            self.to_mapping(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_toml(self) -> str:
        """Every setting as TOML that :func:`parse_toml` and ``from_mapping`` read back."""
        mapping = self.to_mapping()
        # Top-level keys come before the first table in TOML.
        lines = [f"{key} = {_toml_value(mapping.pop(key))}" for key in _TOP_LEVEL]
        for name, section in mapping.items():
            lines.append(f"\n[{name}]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in section.items())
        return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # finite: the ranges exclude inf and nan
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, tuple | list):
        return f"[{', '.join(_toml_value(v) for v in value)}]"
    raise TypeError(f"no TOML form for {value!r}")


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _CONTROL.sub(lambda m: f"\\u{ord(m[0]):04X}", escaped) + '"'


def _nesting(text: str) -> int:
    """Deepest bracket nesting outside strings and comments (an upper bound for TOML)."""
    depth = deepest = 0
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
        i += 1
    return deepest


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """``tomllib.loads`` whose every failure is a one-line :class:`ConfigError` for ``where``."""
    import tomllib  # only when there is TOML to read: keeps the default run's start-up short

    if _nesting(text) > _TOML_MAX_NESTING:
        raise ConfigError(where, f"nests arrays or tables deeper than {_TOML_MAX_NESTING} levels")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(where, f"not valid TOML: {e}") from None
    except (ValueError, RecursionError) as e:  # huge integers; deep nesting
        raise ConfigError(where, f"not valid TOML: {shown(str(e), 80)}") from None


def parse_setting(item: str) -> tuple[str, str, Any]:
    """``section.key=value`` -> (section, key, value), the value read as the key's type.

    Strings are taken as written (a TOML-quoted string is unquoted); numbers, booleans
    and lists are read as TOML values (``512``, ``true``, ``["a", "b"]``).
    """
    key, sep, raw = item.partition("=")
    if sep and key.strip() in _TOP_LEVEL:  # e.g. governed=true: ("", "governed", True)
        dotted, raw = key.strip(), raw.strip(" \t")
        _check_text(dotted, raw)
        value = parse_toml(f"v = {raw}", dotted).get("v") if raw in ("true", "false") else None
        if not isinstance(value, _TOP_LEVEL[dotted]):
            raise ConfigError(dotted, f"expected true or false, got {shown(raw)}")
        return "", dotted, value
    section, dot, name = key.strip().partition(".")
    if not sep or not dot or not section or not name:
        item_shown = item if len(item) <= 60 and not _CONTROL.search(item) else shown(item)
        raise ConfigError(f"--set {item_shown}", "expected section.key=value, e.g. service.cpu=512")
    cls = _SECTIONS.get(section)
    if cls is None:
        raise ConfigError(section, _unknown(section, list(_SECTIONS)))
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if name not in names:
        raise ConfigError(f"{section}.{name}", _unknown(name, names))
    dotted = f"{section}.{name}"
    expected = _hints(cls)[name]
    raw = raw.strip(" \t")
    _check_text(dotted, raw)
    if expected is str and not raw.startswith(('"', "'")):
        return section, name, raw
    try:
        parsed = parse_toml(f"v = {raw}", dotted)
    except ConfigError as e:
        if "integer string conversion" in str(e):
            raise ConfigError(dotted, f"{shown(raw)} is out of range") from None
        parsed = {}
    if list(parsed) != ["v"]:
        raise ConfigError(dotted, f"expected {_type_name(expected)}, got {shown(raw)}")
    return section, name, parsed["v"]
