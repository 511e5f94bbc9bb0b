"""TOML and ``--set`` in, ``--print-config`` out: the configuration as text."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..errors import CONTROL, ConfigError, shown
from .checks import check_text
from .sections import SECTIONS, TOP_LEVEL, hints, type_name, unknown

__all__ = ["dumps", "parse_setting", "parse_toml"]

# TOML nests arrays and tables; the configuration needs two levels. Deeper input is
# refused before the parser's recursion runs out.
TOML_MAX_NESTING = 32


def dumps(mapping: Mapping[str, Any]) -> str:
    """``mapping``, as ``Config.to_mapping`` gives it, as TOML that :func:`parse_toml` reads."""
    tables = dict(mapping)
    # Top-level keys come before the first table in TOML.
    lines = [f"{key} = {_toml_value(tables.pop(key))}" for key in TOP_LEVEL]
    for name, section in tables.items():
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
    return '"' + CONTROL.sub(lambda m: f"\\u{ord(m[0]):04X}", escaped) + '"'


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

    if _nesting(text) > TOML_MAX_NESTING:
        raise ConfigError(where, f"nests arrays or tables deeper than {TOML_MAX_NESTING} levels")
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
    if sep and key.strip() in TOP_LEVEL:  # e.g. governed=true: ("", "governed", True)
        dotted, raw = key.strip(), raw.strip(" \t")
        check_text(dotted, raw)
        value = parse_toml(f"v = {raw}", dotted).get("v") if raw in ("true", "false") else None
        if not isinstance(value, TOP_LEVEL[dotted]):
            raise ConfigError(dotted, f"expected true or false, got {shown(raw)}")
        return "", dotted, value
    section, dot, name = key.strip().partition(".")
    if not sep or not dot or not section or not name:
        item_shown = item if len(item) <= 60 and not CONTROL.search(item) else shown(item)
        raise ConfigError(f"--set {item_shown}", "expected section.key=value, e.g. service.cpu=512")
    cls = SECTIONS.get(section)
    if cls is None:
        raise ConfigError(section, unknown(section, list(SECTIONS)))
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if name not in names:
        raise ConfigError(f"{section}.{name}", unknown(name, names))
    dotted = f"{section}.{name}"
    expected = hints(cls)[name]
    raw = raw.strip(" \t")
    check_text(dotted, raw)
    if expected is str and not raw.startswith(('"', "'")):
        return section, name, raw
    try:
        parsed = parse_toml(f"v = {raw}", dotted)
    except ConfigError as e:
        if "integer string conversion" in str(e):
            raise ConfigError(dotted, f"{shown(raw)} is out of range") from None
        parsed = {}
    if list(parsed) != ["v"]:
        raise ConfigError(dotted, f"expected {type_name(expected)}, got {shown(raw)}")
    return section, name, parsed["v"]
