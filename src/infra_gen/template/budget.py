"""Template sizes: CloudFormation's inline limit and a rendered template's largest parts.

Text and dicts only (no troposphere), so the deploy commands measure a template
file they read the same way generation measures its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from ..errors import ConfigError, shown

__all__ = ["INLINE_TEMPLATE_LIMIT", "largest_parts", "parts_line"]

# The most parts largest_parts names: a template holds at most 500 resources and a few
# sections.
MAX_PARTS = 1_000

# CloudFormation's limit, in bytes, for a template passed in the request body
# (TemplateBody); a larger one must be uploaded to S3 and passed by URL.
INLINE_TEMPLATE_LIMIT = 51_200


def largest_parts(
    text: str | Mapping[str, Any], fmt: Literal["yaml", "json"] = "yaml", count: int = 3
) -> list[tuple[str, int]]:
    """The ``count`` largest parts of a rendered template with their bytes in ``text``:
    each resource by its logical ID, each other top-level section by its name
    (``Parameters``, ``Outputs``, ...). Largest first; ``[]`` for text it cannot read.

    JSON parts are measured in compact form (as :func:`render` writes it); YAML parts
    are the lines of each top-level key, and of each resource under ``Resources``. A
    template already read (a mapping) is measured as compact JSON.

    Raises:
        ConfigError: ``text`` is neither text nor a mapping, or nests too deep to measure;
            ``fmt`` or ``count`` is not allowed.
    """
    if not isinstance(text, str | Mapping):
        raise ConfigError(
            "text", f"{shown(text)} is not allowed; allowed: a template's text or its data"
        )
    if not isinstance(fmt, str) or fmt not in ("yaml", "json"):
        raise ConfigError("fmt", f"{shown(fmt)} is not allowed; allowed: yaml, json")
    if not (type(count) is int and 0 <= count <= MAX_PARTS):
        raise ConfigError("count", f"{shown(count)} is not allowed; allowed: 0-{MAX_PARTS}")
    try:
        sizes = _sizes(text, fmt)
    except RecursionError:
        # json's C parser and encoder recurse: a document nested thousands deep
        raise ConfigError(
            "text", "nests too deep to measure; a template nests a dozen levels"
        ) from None
    except (TypeError, ValueError):  # a mapping holding what is not JSON, or itself
        raise ConfigError(
            "text", "holds what is not JSON data; allowed: a template's data"
        ) from None
    return sorted(sizes, key=lambda part: (-part[1], part[0]))[:count]


def _sizes(text: str | Mapping[str, Any], fmt: str) -> list[tuple[str, int]]:
    if isinstance(text, Mapping):
        sizes = _data_parts(text)
    elif fmt == "json":
        try:
            data = json.loads(text)
        except ValueError:
            return []
        sizes = _data_parts(data) if isinstance(data, dict) else []
    else:
        sizes = _yaml_parts(text)
    return sizes


def parts_line(parts: list[tuple[str, int]]) -> str:
    """:func:`largest_parts` as an error line writes them: ``ProbeFunction 13,733, ...``."""
    return ", ".join(f"{name} {n:,}" for name, n in parts)


def _data_parts(data: Mapping[str, Any]) -> list[tuple[str, int]]:
    """A template's parts (see :func:`largest_parts`) as data, in bytes of compact JSON."""

    def size(value: Any) -> int:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

    resources = data.get("Resources")
    parts = [(key, size(value)) for key, value in data.items() if key != "Resources"]
    if isinstance(resources, dict):
        parts += [(key, size(value)) for key, value in resources.items()]
    return parts


def _yaml_parts(text: str) -> list[tuple[str, int]]:
    """Each top-level key's lines (each resource's, under ``Resources``)."""
    parts: list[tuple[str, int]] = []
    section, child_indent = "", -1
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        key = stripped.split(":", 1)[0].strip("'\"")
        if indent == 0 and stripped.strip() and not stripped.startswith(("#", "- ")):
            section, child_indent = key, -1
            if section == "Resources":
                continue
            parts.append((key, 0))
        elif (
            section == "Resources"
            and stripped.strip()
            and child_indent in (-1, indent)
            and (not stripped.startswith(("#", "- ")))
        ):
            child_indent = indent
            parts.append((key, 0))
        if parts:
            parts[-1] = (parts[-1][0], parts[-1][1] + len(line.encode()))
    return parts
