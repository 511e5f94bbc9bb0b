"""Templates and plan files as the deploy commands read them: bounded in depth, without
YAML anchors or aliases, each refusal one :class:`~infra_gen.errors.UsageError` line.

A YAML alias can name a node that contains it (a cycle) or nest aliases nine deep in a
few hundred bytes that expand to 9**9 values; CloudFormation templates need neither, so
an anchor or an alias is refused where it stands. Nesting is bounded by
:data:`MAX_DEPTH` before a parser could recurse that deep.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
from typing import Any

from ..errors import UsageError, one_line, shown

__all__ = ["MAX_DEPTH", "json_depth", "load_json", "load_template"]

MAX_DEPTH = 100
"""Nesting a template or a plan file may have: a template nests a handful of levels
(a policy document in a resource's Properties a dozen), a plan file five."""

# A JSON string, escapes included: what brackets inside one do not nest. One that is not
# closed runs to the end, so that no quote is tried twice (linear, whatever the text).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.|\\\Z)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class _Refused(Exception):
    """What the loader refuses, said after ``where``."""


def _too_deep() -> str:
    return f"nested deeper than {MAX_DEPTH} levels; allowed: at most {MAX_DEPTH}"


def json_depth(text: str) -> int:
    """How deep the JSON ``text`` nests its arrays and objects (0: a scalar); brackets in
    strings do not count. Linear in ``len(text)``, without recursion."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    steps = (1 if c in "[{" else -1 for c in brackets)
    return max(itertools.accumulate(steps), default=0)


def load_json(text: str, where: str) -> Any:
    """The JSON ``text`` as data, when it nests at most :data:`MAX_DEPTH` levels.

    Raises:
        UsageError: ``where: not JSON: ...``, or nested too deep.
    """
    if json_depth(text) > MAX_DEPTH:
        raise UsageError(f"{where}: {_too_deep()}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise UsageError(f"{where}: not JSON: {one_line(str(e))}") from None


def _yaml_loader() -> type:
    import yaml
    from cfn_tools.yaml_loader import CfnYamlLoader  # cfn_flip's; reads the short tags

    class Loader(CfnYamlLoader):  # type: ignore[misc]
        """cfn_flip's loader, refusing anchors and aliases and bounding nesting."""

        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
                raise _Refused(
                    f"YAML anchors and aliases are not allowed (line "
                    f"{event.start_mark.line + 1}, {sign}{one_line(str(event.anchor))}); "
                    "CloudFormation templates need none: write the value out"
                )
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise _Refused(_too_deep())
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return Loader


def _key(key: Any) -> Any:
    """A mapping key as JSON can hold it: a date (``2026-01-01:``) as its text."""
    if isinstance(key, datetime.date):
        return key.isoformat()
    return key if key is None or isinstance(key, str | int | float | bool) else str(key)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parameters(doc: dict[str, Any], where: str) -> None:
    found = doc.setdefault("Parameters", {})
    if not isinstance(found, dict):
        raise UsageError(
            f"{where}: Parameters: expected a mapping of Parameter names to "
            f"declarations, got {shown(found)}"
        )
    for name, spec in found.items():
        what = f"{where}: Parameters: {one_line(str(name))}"
        if not isinstance(spec, dict):
            raise UsageError(f"{what}: expected a mapping (Type, Default, ...), got {shown(spec)}")
        for key, kind in (
            ("MinLength", int),
            ("MaxLength", int),
            ("MinValue", float),
            ("MaxValue", float),
        ):
            if key in spec:
                try:
                    kind(spec[key])
                except (TypeError, ValueError, OverflowError):
                    raise UsageError(
                        f"{what}: {key}: expected a number, got {shown(spec[key])}"
                    ) from None
        for key in ("Type", "AllowedPattern", "ConstraintDescription"):
            if key in spec and not isinstance(spec[key], str):
                raise UsageError(f"{what}: {key}: expected a string, got {shown(spec[key])}")
        if "AllowedValues" in spec and not isinstance(spec["AllowedValues"], list):
            raise UsageError(
                f"{what}: AllowedValues: expected a list, got {shown(spec['AllowedValues'])}"
            )


def load_template(text: str, where: str) -> dict[str, Any]:
    """A CloudFormation template (YAML or JSON) as JSON data, its mapping keys strings.

    Args:
        text: the template. Default: required.
        where: what leads an error line, e.g. ``--template-file stack.yaml``. Default:
            required.

    Returns:
        The template, with a ``Parameters`` mapping (empty when it declares none).

    Raises:
        UsageError: not YAML or JSON; a YAML anchor or alias; nested deeper than
            :data:`MAX_DEPTH`; no ``Resources`` mapping; malformed ``Parameters``.
    """
    import yaml

    data: Any = None
    if text.lstrip().startswith(("{", "[")):
        try:
            data = load_json(text, where)
        except UsageError:
            if json_depth(text) > MAX_DEPTH:
                raise
    if data is None:
        try:
            data = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader
        except _Refused as e:
            raise UsageError(f"{where}: {e}") from None
        except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
            raise UsageError(f"{where}: not a YAML or JSON template: {one_line(str(e))}") from None
    doc = json.loads(json.dumps(_plain(data), default=str))
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise UsageError(f"{where}: not a CloudFormation template (no Resources mapping)")
    _parameters(doc, where)
    return doc
