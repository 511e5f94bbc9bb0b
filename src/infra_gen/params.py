"""The one way to add a deploy-time Parameter: constrained, labelled and grouped."""

from __future__ import annotations

from typing import Any

from troposphere import Parameter, Template

__all__ = [
    "add_parameter", "GROUPS", "GROUP_SERVICE", "GROUP_PROBE", "GROUP_ALARMS", "GROUP_SECURITY",
]  # fmt: skip

# Console groups (AWS::CloudFormation::Interface), in the order the console shows them.
GROUP_SERVICE = "Service"
GROUP_PROBE = "Probe"
GROUP_ALARMS = "Alarms"
GROUP_SECURITY = "Security"
GROUPS = (GROUP_SERVICE, GROUP_PROBE, GROUP_ALARMS, GROUP_SECURITY)
"""The stack's groups in console order; any other group follows them, first seen first."""


def add_parameter(
    t: Template, name: str, *, group: str, label: str, description: str, **constraints: Any
) -> Parameter:
    """Add Parameter ``name`` with ``constraints`` (Type, Default, AllowedValues, ...).

    Every Parameter of the stack carries a constraint so that a bad
    ``--parameter-overrides`` value fails before any resource is touched. The
    console group is created when its first Parameter arrives and kept in the
    order of :data:`GROUPS`, whichever concern is added first.
    """
    keys = {"AllowedValues", "AllowedPattern", "MinValue", "MaxValue"}
    if not keys & constraints.keys():
        raise ValueError(f"Parameter {name} needs one of {sorted(keys)}")
    param = t.add_parameter(Parameter(name, Description=description, **constraints))
    t.add_parameter_to_group(param, group)
    t.set_parameter_label(param, label)
    groups = t.metadata["AWS::CloudFormation::Interface"]["ParameterGroups"]
    groups.sort(key=_rank)  # stable: other groups keep the order they came in
    return param


def _rank(group: dict[str, Any]) -> int:
    label = group["Label"]["default"]
    return GROUPS.index(label) if label in GROUPS else len(GROUPS)
