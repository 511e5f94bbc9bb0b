"""The one family of errors the library raises; ``str()`` of each is one line.

The command line maps each class to an exit status (``infra_gen.cli``); nothing
else prints them. Values go into a line through :func:`shown`, so a newline, a
control character or a huge value never breaks it.
"""

from __future__ import annotations

import json
import re

__all__ = [
    "CONTROL",
    "AfterExecution",
    "ConfigError",
    "DeployError",
    "InfraGenError",
    "StalePlan",
    "TemplateTooLarge",
    "UsageError",
    "one_line",
    "shown",
]

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators (YAML reads
# them as line breaks): what an error line escapes and no configuration value holds.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with its line breaks and other control characters escaped (``\\n``, ``\\x00``)."""
    return CONTROL.sub(lambda m: repr(m[0])[1:-1], text)


def shown(value: object, limit: int = 60) -> str:
    """``value`` as an error line shows it: its ``repr``, on one line, at most ``limit`` long.

    Safe for integers of any size and for deeply nested containers. An object with a
    ``to_dict()`` (a troposphere expression or resource) shows as what it renders to:
    ``Ref(Bucket)``, ``GetAtt(Table.Arn)``, ``Sub('arn:...')``, ``Join(["",[...]])``; any
    other object whose ``repr`` holds an address shows by its type (``a list``).
    """
    if callable(getattr(type(value), "to_dict", None)):
        return _bounded(_expression(value), limit)
    try:
        text = one_line(repr(value))
    except ValueError:  # int too large to convert to decimal text
        return f"an integer of {value.bit_length()} bits"  # type: ignore[attr-defined]
    except RecursionError:
        return f"a deeply nested {type(value).__name__}"
    if _ADDRESS.search(text):  # <x.Y object at 0x7f...>: an address says nothing
        return _a(type(value).__name__)
    return _bounded(text, limit)


# A default repr, "<module.Class object at 0x7f3e...>", anywhere in a repr.
_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+>")


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _a(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _expression(value: object) -> str:
    """A troposphere object as it renders: an intrinsic function by its name and
    arguments, a resource by its type and logical ID."""
    title, kind = getattr(value, "title", None), getattr(value, "resource_type", None)
    if isinstance(title, str) and isinstance(kind, str):
        return one_line(f"{kind} {title}")
    try:
        data = value.to_dict()  # type: ignore[attr-defined]
        if isinstance(data, dict) and len(data) == 1:
            ((name, args),) = data.items()
            if name == "Ref" and isinstance(args, str):
                return one_line(f"Ref({args})")
            if name == "Fn::GetAtt" and isinstance(args, list) and len(args) == 2:
                return one_line(f"GetAtt({args[0]}.{args[1]})")
            if name == "Fn::Sub" and isinstance(args, str):
                return one_line(f"Sub({args!r})")
            if name == "Fn::Sub" and isinstance(args, list) and args:
                return one_line(f"Sub({args[0]!r}, ...)")
            if name.startswith("Fn::"):
                return one_line(f"{name[4:]}({_compact(args)})")
        return one_line(_compact(data))
    except Exception:  # noqa: BLE001 - a value that cannot render: its type says enough
        return _a(type(value).__name__)


def _compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


class InfraGenError(Exception):
    """Anything infra_gen refuses or fails at, in one line."""


class ConfigError(InfraGenError, ValueError):
    """A configuration value is not allowed: ``key: what is wrong; allowed: ...``."""

    def __init__(self, key: str, message: str) -> None:
        key_shown = key if len(key) <= 80 and not CONTROL.search(key) else shown(key, 80)
        super().__init__(f"{key_shown}: {message}")
        self.key = key


class UsageError(InfraGenError):
    """A command line, file or stream the command cannot use (exit status 2)."""


class TemplateTooLarge(InfraGenError, ValueError):
    """A rendered template is over the 51,200 bytes CloudFormation accepts inline.

    ``str()`` names the template's largest parts, where bytes are won.
    """

    def __init__(
        self, size: int, fmt: str, largest: list[tuple[str, int]] | None = None, limit: int = 51_200
    ) -> None:
        parts = ", ".join(f"{name} {n:,}" for name, n in largest or [])
        super().__init__(
            f"the {fmt.upper()} template is {size:,} bytes, over the "
            f"{limit:,} CloudFormation accepts inline" + (f"; largest: {parts}" if parts else "")
        )
        self.size = size
        self.largest = list(largest or [])
        """The largest parts, (name, bytes), largest first."""


class DeployError(InfraGenError):
    """What stopped a deploy command, in one line; the command exits non-zero."""


class StalePlan(DeployError):
    """The stack or the change set is no longer what the plan recorded: nothing was run."""


class AfterExecution(DeployError):
    """An AWS error once the stack was being changed: the line says how to follow it."""
