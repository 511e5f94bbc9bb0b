"""The one way to add a deploy-time Parameter: constrained, described and grouped."""

from __future__ import annotations

from typing import Any

from troposphere import Parameter, Template

__all__ = [
    "add_parameter",
    "add_to_group",
    "GROUPS",
    "GROUP_NETWORK",
    "GROUP_SERVICE",
    "GROUP_PROBE",
    "GROUP_ALARMS",
    "GROUP_SECURITY",
]

# Console groups (AWS::CloudFormation::Interface), in the order the console shows them.
GROUP_NETWORK = "Network"
GROUP_SERVICE = "Service"
GROUP_PROBE = "Probe"
GROUP_ALARMS = "Alarms"
GROUP_SECURITY = "Security"
GROUPS = (GROUP_NETWORK, GROUP_SERVICE, GROUP_PROBE, GROUP_ALARMS, GROUP_SECURITY)
"""The stack's groups in console order, among the places they hold; any other group (a
host template's) keeps its own place."""


def add_parameter(
    t: Template, name: str, *, group: str, description: str, **constraints: Any
) -> Parameter:
    """Add Parameter ``name`` with ``constraints`` (Type, Default, AllowedValues, ...).

    Every Parameter of the stack carries a constraint so that a bad
    ``--parameter-overrides`` value fails before any resource is touched.

    Args:
        t: the template it adds to.
        name: its logical ID.
        group: its console group; the stack's keep the order of :data:`GROUPS`.
        description: what the console shows under it.

    Raises:
        ValueError: no constraint among ``constraints``.
    """
    keys = {"AllowedValues", "AllowedPattern", "MinValue", "MaxValue"}
    if not keys & constraints.keys():
        raise ValueError(f"Parameter {name} needs one of {sorted(keys)}")
    param = t.add_parameter(Parameter(name, Description=description, **constraints))
    add_to_group(t, name, group)
    return param


def add_to_group(t: Template, name: str, group: str) -> None:
    """Put Parameter ``name`` in the console group ``group``.

    Args:
        t: the template holding the Parameter.
        name: the Parameter's logical ID.
        group: the group's label; the stack's groups keep the order of :data:`GROUPS`
            among the places they hold, a host template's keep theirs.
    """
    t.add_parameter_to_group(name, group)
    groups = t.metadata["AWS::CloudFormation::Interface"]["ParameterGroups"]
    # The stack's groups take the places they hold, in console order; any other group
    # (a host template's) keeps its own place.
    slots = [i for i, g in enumerate(groups) if g["Label"]["default"] in GROUPS]
    for i, ranked in zip(slots, sorted((groups[i] for i in slots), key=_rank), strict=True):
        groups[i] = ranked


def _rank(group: dict[str, Any]) -> int:
    label = group["Label"]["default"]
    return GROUPS.index(label) if label in GROUPS else len(GROUPS)
