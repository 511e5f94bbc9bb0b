"""Template to text: YAML (short-form tags) or JSON, byte-stable for the same input."""

from __future__ import annotations

from typing import Literal

from troposphere import Template

__all__ = ["render", "FORMATS"]

FORMATS = ("yaml", "json")


def render(t: Template, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Keys sorted, no timestamps: the same template always renders to the same text."""
    if fmt == "json":
        return t.to_json(indent=1, sort_keys=True) + "\n"
    if fmt == "yaml":
        return t.to_yaml(clean_up=False, long_form=False, sort_keys=True)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
