"""Template to text: YAML (short-form tags) or JSON, byte-stable for the same input."""

from __future__ import annotations

from typing import Literal

import cfn_flip  # troposphere's own YAML layer (a dependency of troposphere)
import yaml
from cfn_flip import config as cfn_flip_config
from troposphere import Template

__all__ = ["render", "FORMATS"]

FORMATS = ("yaml", "json")


def render(t: Template, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Keys sorted, no timestamps: the same template always renders to the same text.

    Both forms are kept well under CloudFormation's 51,200-byte limit for a
    template passed in the request: JSON is compact (it is for machines), and YAML
    writes lists of plain values on one line (``AllowedValues: [1, 3, 5]``), as
    troposphere's block-only style would push the largest configuration past it.
    """
    text = str(t.to_json(indent=None, sort_keys=True, separators=(",", ":")))
    if fmt == "json":
        return text + "\n"
    if fmt == "yaml":
        return str(
            yaml.dump(
                cfn_flip.load_json(text),
                Dumper=cfn_flip.get_dumper(clean_up=False, long_form=False),
                default_flow_style=None,  # flow style for collections of scalars only
                allow_unicode=True,
                width=cfn_flip_config.max_col_width,
            )
        )
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
