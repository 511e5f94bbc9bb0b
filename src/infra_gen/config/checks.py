"""Value checks: text, ranges, CIDR blocks, DNS names, e-mail, images, users, paths, ARNs.

Each raises :class:`ConfigError` with one line: the dotted key, the value shown
escaped and bounded, and what is allowed.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import typing
from collections.abc import Mapping
from typing import Any

from ..errors import CONTROL, ConfigError, shown
from .limits import (
    DNS_NAME_MAX,
    EMAIL_LOCAL_MAX,
    EMAIL_MAX,
    PARAMETER_ARN_MAX,
    PATH_MAX,
    SECRET_ARN_MAX,
    WRITABLE_PATHS_MAX,
)

__all__ = [
    "IMAGE_PATTERN",
    "LOGICAL_ID",
    "check_environment",
    "check_secrets",
    "check_writable_paths",
    "writable_volumes",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
# IPv4 ranges a VPC cannot use.
_NOT_FOR_A_VPC = {
    ipaddress.IPv4Network("0.0.0.0/8"): "'this network'",
    ipaddress.IPv4Network("127.0.0.0/8"): "loopback",
    ipaddress.IPv4Network("169.254.0.0/16"): "link-local",
    ipaddress.IPv4Network("224.0.0.0/4"): "multicast",
    ipaddress.IPv4Network("240.0.0.0/4"): "reserved",
}
# registry/repository[:tag][@sha256:digest]; path components and their separators
# (".", "_", "__", one or more "-") as the OCI distribution spec defines them.
IMAGE_PATTERN = (
    r"^([a-zA-Z0-9.-]+(:[0-9]+)?/)?"
    r"[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)
# An image of an ECR private registry, split into what IAM and preflight name:
# <account>.dkr.ecr.<region>.<URL suffix>/<repository>[:tag][@sha256:digest].
PRIVATE_ECR_IMAGE = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[^:@]+)(:(?P<tag>[^@]+))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
# A DNS label as Cloud Map takes it: lower-case letters, digits and hyphens.
DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# CloudWatch: at least one character that is not white space.
METRIC_NAMESPACE = re.compile(r"^(?=.*[^ ])[A-Za-z0-9 ._#:/-]{1,255}$")
HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,1023}$")
# A path the probe requests: PROBE_SERVICE_NAMES separates its services with commas.
PROBE_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+;=:@%/-]{0,1023}$")
# An address SNS can deliver to: a dot-atom local part (RFC 5322; letters beyond ASCII
# allowed, RFC 6531) and an ASCII domain of DNS labels (IDNA: written as xn--...).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL_LOCAL = re.compile(rf"{_ATEXT}(\.{_ATEXT})*")
_EMAIL_DOMAIN = re.compile(
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]"
)
# A CIDR block written with a prefix length: ipaddress also takes 10.0.0.0/255.255.0.0.
_CIDR_TEXT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}")
# A container user as ECS takes it: user, uid, user:group or uid:gid.
USER = re.compile(
    r"^[a-z_][a-z0-9_.-]{0,31}(:[a-z_][a-z0-9_.-]{0,31})?$|^[0-9]{1,10}(:[0-9]{1,10})?$"
)
ROOT_USER = re.compile(r"^(0|root)(:.*)?$")  # CT.ECS.PR.3's root patterns
# An Availability Zone ID: the Region's short code and the zone number, e.g. use1-az1.
AZ_ID = re.compile(r"^[a-z]{2,}[0-9]+-az[0-9]+$")
# EC2 resource IDs: the prefix and 8 hexadecimal digits (older) or 17 (since 2016).
VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
# A Route 53 hosted zone ID: Z and upper-case letters and digits, 32 characters at most.
HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
# An ACM certificate's ARN in any partition.
ACM_ARN = r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+"


def check_range(key: str, value: float, low: float, high: float) -> None:
    """Refuse ``value`` outside ``low..high``.

    Args:
        key: the dotted key the error names. Default: required.
        value: the setting. Default: required.
        low: the least allowed. Default: required.
        high: the most allowed. Default: required.

    Raises:
        ConfigError: ``key: <value> is out of range; allowed <low>..<high>``.
    """
    if not low <= value <= high:
        raise ConfigError(key, f"{shown(value)} is out of range; allowed {low}..{high}")


def check_choice(key: str, value: object, allowed: typing.Iterable[object]) -> None:
    """Refuse ``value`` that is not one of ``allowed``.

    Args:
        key: the dotted key the error names. Default: required.
        value: the setting. Default: required.
        allowed: every value allowed, in the order the error lists them. Default: required.

    Raises:
        ConfigError: ``key: <value> is not allowed; allowed: <a>, <b>, ...``.
    """
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(
            key, f"{shown(value)} is not allowed; allowed: {', '.join(map(str, allowed))}"
        )


def check_pattern(key: str, value: str, pattern: str | re.Pattern[str], what: str) -> None:
    """Refuse ``value`` that ``pattern`` does not match whole.

    Args:
        key: the dotted key the error names. Default: required.
        value: the setting. Default: required.
        pattern: what the whole value must match. Default: required.
        what: what a value is, e.g. "a path". Default: required.

    Raises:
        ConfigError: ``key: <value> is not <what>``.
    """
    if not re.fullmatch(pattern, value):
        raise ConfigError(key, f"{shown(value)} is not {what}")


def check_text(key: str, value: str) -> None:
    """Refuse text that is not UTF-8 or holds a control character (a line break too)."""
    if _SURROGATE.search(value):
        # What Python makes of bytes that are not UTF-8 in argv or the environment.
        raise ConfigError(key, f"{shown(value)} is not valid UTF-8; allowed: UTF-8 text only")
    found = CONTROL.search(value)
    if found:
        raise ConfigError(
            key,
            f"{shown(value)} contains the control character U+{ord(found[0]):04X}; "
            "allowed: printable characters only",
        )


def cidr_block(key: str, value: str, smallest: int) -> ipaddress.IPv4Network:
    """``value`` as an IPv4 block a VPC may use, /16 to /``smallest``.

    Args:
        key: the dotted key the error names. Default: required.
        value: the block, written with a prefix length. Default: required.
        smallest: the longest prefix allowed. Default: required.

    Returns:
        The block.

    Raises:
        ConfigError: not a block, a prefix out of range, or a range no VPC may use.
    """
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


def dns_name_problem(name: str) -> str | None:
    """Why ``name`` is not a lower-case DNS name of two labels or more, or None when it is."""
    if not name.isascii():
        return "it is not ASCII; write it in its IDNA form (xn--...)"
    if name.endswith("."):
        return "write it without the trailing dot"
    if name.startswith("*."):
        return "a wildcard names no one host; give the name the service answers on"
    if len(name) > DNS_NAME_MAX:
        return f"it has {len(name)} characters; allowed at most {DNS_NAME_MAX}"
    labels = name.split(".")
    if len(labels) < 2 or not all(DNS_LABEL.fullmatch(label) for label in labels):
        return (
            "expected two or more lower-case labels of letters, digits and hyphens, "
            "e.g. www.example.com"
        )
    if labels[-1].isdigit():
        return "its last label is a number, as in an IP address; allowed: a DNS name"
    return None


def email_problem(address: str) -> str | None:
    """Why ``address`` is not one SNS can deliver to, or None when it is."""
    if len(address) > EMAIL_MAX:
        return f"{len(address)} characters; allowed at most {EMAIL_MAX}"
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return "expected local-part@domain"
    if len(local) > EMAIL_LOCAL_MAX:
        return f"the part before @ has {len(local)} characters; allowed at most {EMAIL_LOCAL_MAX}"
    ascii_local = "".join(ch if ord(ch) < 0x80 or not ch.isalnum() else "a" for ch in local)
    if not _EMAIL_LOCAL.fullmatch(ascii_local):
        return (
            "the part before @ allows letters, digits, !#$%&'*+/=?^_`{|}~- and single "
            "dots between them"
        )
    if not domain.isascii():
        return "the domain is not ASCII; write it in its IDNA form (xn--...)"
    if len(domain) > DNS_NAME_MAX or not _EMAIL_DOMAIN.fullmatch(domain):
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


def _check_names(key: str, values: object) -> Mapping[str, Any]:
    """``values``, a mapping whose every key is a variable name."""
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
        check_text(f"{key}.{name}", value)
    return {str(k): str(v) for k, v in _check_names(key, variables).items()}


def check_secrets(key: str, secrets: object) -> dict[str, str]:
    """``secrets`` as a container's secrets (name -> Secrets Manager secret or SSM
    parameter ARN), else a :class:`ConfigError` naming ``<key>.<NAME>``."""
    for name, arn in _check_names(key, secrets).items():
        if isinstance(arn, str):
            check_text(f"{key}.{name}", arn)  # a JSON key may hold anything but ":"
        if not isinstance(arn, str) or not (
            _SECRET_ARN.fullmatch(arn) or _PARAMETER_ARN.fullmatch(arn)
        ):
            raise ConfigError(
                f"{key}.{name}",
                f"{shown(arn)} is not allowed; allowed: the ARN of a Secrets Manager secret "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>) or of an SSM "
                "parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)",
            )
        limit = PARAMETER_ARN_MAX if _PARAMETER_ARN.fullmatch(arn) else SECRET_ARN_MAX
        resource = ":".join(arn.split(":")[:7])  # without a secret's JSON key and version
        if len(resource) > limit:
            raise ConfigError(
                f"{key}.{name}",
                f"{shown(arn)} is an ARN of {len(resource)} characters; allowed at most {limit}",
            )
    return {str(k): str(v) for k, v in _check_names(key, secrets).items()}


# A logical ID as CloudFormation takes it: 1-255 letters and digits.
LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")
# ECS: a volume's name is 1-255 letters, digits, _ and -.
_VOLUME_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")


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
        _check_path(where, path)
        if path in taken:
            raise ConfigError(
                where,
                f"{path!r} is the path of {key}.{taken[path]} too; allowed: one volume a path",
            )
        taken[path] = name
    return {str(k): str(v) for k, v in paths.items()}


def writable_volumes(key: str, paths: tuple[str, ...]) -> dict[str, str]:
    """``paths`` (absolute, each once, at most ``WRITABLE_PATHS_MAX``) as volume name ->
    path, each named after its path (``/var/cache/nginx`` -> ``var-cache-nginx``), else a
    :class:`ConfigError` naming ``key``."""
    if len(paths) > WRITABLE_PATHS_MAX:
        raise ConfigError(key, f"has {len(paths)} paths; allowed at most {WRITABLE_PATHS_MAX}")
    volumes: dict[str, str] = {}
    for path in sorted(paths):
        _check_path(key, path)
        if path in volumes.values():
            raise ConfigError(key, f"names {path!r} twice; allowed: each path once")
        base = re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")[:240] or "volume"
        name, n = base, 1
        while name in volumes:  # /a.b and /a-b: one name, told apart by a number
            n += 1
            name = f"{base}-{n}"
        volumes[name] = path
    return volumes


def _check_path(where: str, path: object) -> None:
    if isinstance(path, str):
        check_text(where, path)
    # Docker refuses a relative path and / itself; ".." and "//" would name another
    # path than the one written, and two volumes on one path fail at task start.
    if not (
        isinstance(path, str)
        and path.startswith("/")
        and not path.startswith("//")
        and path != "/"
        and posixpath.normpath(path) == path
        and len(path) <= PATH_MAX
    ):
        raise ConfigError(
            where,
            f"{shown(path)} is not allowed; allowed: an absolute path "
            "in normal form (no . or .. parts, no trailing /), not /, at most "
            f"{PATH_MAX} characters, e.g. /var/cache/nginx",
        )
