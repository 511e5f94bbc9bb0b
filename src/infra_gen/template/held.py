"""What in a template already holds a logical ID: the one check of a free ID."""

from __future__ import annotations

from troposphere import Template

__all__ = ["held_by"]


def held_by(t: Template, logical_id: str) -> str | None:
    """What in ``t`` already holds ``logical_id``, or ``None`` when it is free.

    A resource's type, ``"Parameter"`` or ``"Output"``.
    """
    taken = t.resources.get(logical_id)
    if taken is not None:
        return str(taken.resource_type)
    return (
        "Parameter"
        if logical_id in t.parameters
        else ("Output" if logical_id in t.outputs else None)
    )
