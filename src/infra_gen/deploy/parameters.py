"""Deploy-time Parameter values: which value each Parameter gets, and whether
CloudFormation would take it.

The one checker of a value against its Parameter (:func:`problems`) serves the
``--parameter`` refusal of every command and the preflight's findings, each in its
own words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config.checks import SUBNET_ID, VPC_ID
from ..errors import UsageError, one_line, shown

__all__ = [
    "Problem",
    "check",
    "check_names",
    "matches_pattern",
    "parameters_for",
    "problems",
    "values_for",
]


@dataclass(frozen=True)
class Problem:
    """A constraint of a Parameter that a value breaks."""

    constraint: str
    """The Parameter's key it breaks: AllowedValues, AllowedPattern, MinLength,
    MaxLength, Type, MinValue or MaxValue."""
    refusal: str
    """As ``--parameter NAME=VALUE: ...`` says it: the ConstraintDescription when there is one."""
    finding: str
    """As preflight's ``NAME=VALUE ...`` line says it."""


def matches_pattern(pattern: str, value: str) -> bool:
    """Whether ``value`` matches a Parameter's AllowedPattern as a whole. A pattern Python
    cannot read (a Java-only construct) counts as a match: CloudFormation decides."""
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return True


def problems(spec: Mapping[str, Any], value: str) -> list[Problem]:
    """Every constraint of the Parameter ``spec`` that ``value`` breaks, in the order
    they are checked: AllowedValues (compared as strings), AllowedPattern (the whole
    value), MinLength, MaxLength, then a Number's type before its bounds."""
    why = spec.get("ConstraintDescription")
    found = []
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        listed = ", ".join(map(str, allowed))
        found.append(
            Problem("AllowedValues", why or f"allowed: {listed}", f"is not one of {listed}")
        )
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not matches_pattern(pattern, value):
        found.append(
            Problem(
                "AllowedPattern",
                why or f"does not match the AllowedPattern {pattern}",
                why or f"does not match {pattern}",
            )
        )
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        least = spec["MinLength"]
        found.append(
            Problem(
                "MinLength",
                why or f"at least {least} characters",
                f"is shorter than MinLength {least}",
            )
        )
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        most = spec["MaxLength"]
        found.append(
            Problem(
                "MaxLength", why or f"at most {most} characters", f"is longer than MaxLength {most}"
            )
        )
    if spec.get("Type") == "Number":
        found += _number_problems(spec, value, why)
    if spec.get("Type") in _ID_TYPES:
        found += _id_problems(spec["Type"], value)
    return found


# AWS-specific Parameter types whose form is known here: CloudFormation looks the IDs up
# in the account, after the form; a bad form is refused before any AWS call.
_ID_TYPES = {
    "AWS::EC2::VPC::Id": ("a VPC ID (vpc-", VPC_ID),
    "AWS::EC2::Subnet::Id": ("a subnet ID (subnet-", SUBNET_ID),
    "List<AWS::EC2::Subnet::Id>": ("a list of subnet IDs (subnet-", SUBNET_ID),
}


def _id_problems(kind: str, value: str) -> list[Problem]:
    what, pattern = _ID_TYPES[kind]
    items = value.split(",") if kind.startswith("List<") else [value]
    bad = [item for item in items if not pattern.fullmatch(item)]
    if not bad:
        return []
    expected = f"{what} and 8 or 17 hex digits" + (
        ", separated by commas)" if kind.startswith("List<") else ")"
    )
    return [Problem("Type", f"expected {expected}", f"is not {expected}: {shown(bad[0])}")]


def _number_problems(spec: Mapping[str, Any], value: str, why: str | None) -> list[Problem]:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # inf, nan, 1e400: no number CloudFormation takes
        return [Problem("Type", "expected a number", "is not a number")]
    low, high = spec.get("MinValue"), spec.get("MaxValue")
    if low is not None and high is not None:
        bounds = f"{low}..{high}"
    else:
        bounds = f"at least {low}" if high is None else f"at most {high}"
    if low is not None and number < float(low):
        return [Problem("MinValue", why or f"allowed {bounds}", f"is less than MinValue {low}")]
    if high is not None and number > float(high):
        return [Problem("MaxValue", why or f"allowed {bounds}", f"is greater than MaxValue {high}")]
    return []


def check_names(declared: Collection[str], overrides: Mapping[str, str]) -> None:
    """Refuse a ``--parameter`` the template does not declare.

    Raises:
        UsageError: the first such name, and the names allowed.
    """
    for name in sorted(overrides):
        if name not in declared:
            raise UsageError(
                f"--parameter {shown(name)[1:-1]}: not a Parameter of the "
                f"template; allowed: {', '.join(sorted(declared))}"
            )


def check(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> None:
    """Refuse a ``--parameter`` the template's Parameters section would refuse.

    Raises:
        UsageError: an unknown name, or the first broken constraint of a value.
    """
    for name, value in sorted(overrides.items()):
        check_names(declared, {name: value})
        found = problems(declared[name], value)
        if found:
            raise UsageError(f"--parameter {name}={shown(value)}: {one_line(found[0].refusal)}")


def values_for(
    template: Mapping[str, Any], overrides: Mapping[str, str], previous: Mapping[str, str]
) -> dict[str, str]:
    """Each Parameter's value as the change set would get it: override, previous, default.

    Args:
        template: the template as data (its ``Parameters``). Default: required.
        overrides: ``--parameter`` values by name. Default: required.
        previous: the stack's values by name; empty for a new stack. Default: required.

    Returns:
        Name -> value, for each Parameter that gets one.
    """
    result = {}
    for name, spec in template.get("Parameters", {}).items():
        if name in overrides:
            result[name] = overrides[name]
        elif name in previous:
            result[name] = previous[name]
        elif "Default" in spec:
            result[name] = str(spec["Default"])
    return result


def parameters_for(
    declared: Sequence[str], overrides: Mapping[str, str], previous: Collection[str] | None
) -> list[dict[str, Any]]:
    """The change set's Parameters: overrides, else the stack's previous value, else default.

    Args:
        declared: the template's Parameter names.
        overrides: ``--parameter`` values by name.
        previous: the stack's Parameter names; None for a new stack.

    Returns:
        CreateChangeSet's ``Parameters``, sorted by name.

    Raises:
        UsageError: an override the template does not declare, before any call.
    """
    check_names(declared, overrides)
    result: list[dict[str, Any]] = []
    for name in sorted(declared):
        if name in overrides:
            result.append({"ParameterKey": name, "ParameterValue": overrides[name]})
        elif previous is not None and name in previous:
            result.append({"ParameterKey": name, "UsePreviousValue": True})
    return result
