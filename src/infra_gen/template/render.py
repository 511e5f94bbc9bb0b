"""Template to text: YAML (short-form tags) or compact JSON, byte-stable for the same input.

The YAML is troposphere's own YAML layer (cfn-flip's dumper over PyYAML) with
one option changed: lists of plain values stay on one line.
"""

from __future__ import annotations

from typing import Literal

import cfn_flip  # troposphere's own YAML layer (a dependency of troposphere)
import yaml
from cfn_flip import config as cfn_flip_config
from troposphere import Template

from ..errors import ConfigError, TemplateTooLarge, shown
from .budget import INLINE_TEMPLATE_LIMIT, largest_parts

__all__ = ["FORMATS", "check_size", "render", "render_inline"]

FORMATS = ("yaml", "json")


def render(t: Template, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """The template as text; the same template always renders to the same bytes.

    Keys are sorted and nothing depends on the clock. JSON is compact (it is for
    machines); YAML writes lists of plain values on one line
    (``AllowedValues: [1, 3, 5]``), where troposphere's block-only style would push
    the largest configuration past CloudFormation's 51,200 bytes.

    Raises:
        ConfigError: ``t`` is no troposphere Template, or ``fmt`` neither ``yaml`` nor ``json``.
    """
    if not isinstance(t, Template):
        raise ConfigError("t", f"{shown(t)} is not allowed; allowed: a troposphere Template")
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ConfigError("fmt", f"{shown(fmt)} is not allowed; allowed: {', '.join(FORMATS)}")
    text = str(t.to_json(indent=None, sort_keys=True, separators=(",", ":")))
    if fmt == "json":
        return text + "\n"
    return str(
        yaml.dump(
            cfn_flip.load_json(text),
            Dumper=cfn_flip.get_dumper(clean_up=False, long_form=False),
            default_flow_style=None,  # flow style for collections of scalars only
            allow_unicode=True,
            width=cfn_flip_config.max_col_width,
        )
    )


def render_inline(t: Template) -> str:
    """The template as ``infra-gen deploy`` sends it: YAML, readable in the console, when
    it fits in a request; else the compact JSON, which takes fewer bytes (the probe's code
    as one string, no indentation).

    Raises :class:`TemplateTooLarge` (with the JSON size) when neither fits.
    """
    text = render(t, "yaml")
    if len(text.encode("utf-8")) <= INLINE_TEMPLATE_LIMIT:
        return text
    text = render(t, "json")
    check_size(text, "json")
    return text


def check_size(template: Template | str | bytes, fmt: Literal["yaml", "json"] = "yaml") -> int:
    """The size in bytes of ``template`` rendered as ``fmt`` (or of text already rendered).

    Raises :class:`TemplateTooLarge` when it is over the 51,200 bytes CloudFormation
    accepts in a request, naming its three largest parts; such a template must be
    deployed from S3. Call it after extending a built template. Anything else, or text
    that is not UTF-8, raises :class:`ConfigError` naming ``template``.
    """
    if isinstance(template, Template):
        template = render(template, fmt)
    if not isinstance(template, str | bytes):
        raise ConfigError(
            "template",
            f"{shown(template)} is not allowed; allowed: a troposphere Template, or its text",
        )
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ConfigError("fmt", f"{shown(fmt)} is not allowed; allowed: {', '.join(FORMATS)}")
    try:
        data = template.encode("utf-8") if isinstance(template, str) else template
        data.decode("utf-8")
    except UnicodeError:
        raise ConfigError("template", "is not UTF-8 text; allowed: a template's text") from None
    if len(data) > INLINE_TEMPLATE_LIMIT:
        try:
            parts = largest_parts(data.decode("utf-8"), fmt)
        except ConfigError:  # text nested too deep to measure: too large all the same
            parts = []
        raise TemplateTooLarge(len(data), fmt, parts)
    return len(data)
