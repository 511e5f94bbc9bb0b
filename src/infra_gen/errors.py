"""The one family of errors the library raises; ``str()`` of each is one line.

The command line maps each class to an exit status (``infra_gen.cli``); nothing
else prints them. Values go into a line through :func:`shown`, so a newline, a
control character or a huge value never breaks it.
"""

from __future__ import annotations

import re

__all__ = [
    "ConfigError",
    "DeployError",
    "InfraGenError",
    "StalePlan",
    "TemplateTooLarge",
    "UsageError",
    "one_line",
    "shown",
]

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with its line breaks and other control characters escaped (``\\n``, ``\\x00``)."""
    return _CONTROL.sub(lambda m: repr(m[0])[1:-1], text)


def shown(value: object, limit: int = 60) -> str:
    """``value`` as an error line shows it: its ``repr``, on one line, at most ``limit`` long.

    Safe for integers of any size and for deeply nested containers.
    """
    try:
        text = one_line(repr(value))
    except ValueError:  # int too large to convert to decimal text
        return f"an integer of {value.bit_length()} bits"  # type: ignore[attr-defined]
    except RecursionError:
        return f"a deeply nested {type(value).__name__}"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class InfraGenError(Exception):
    """Anything infra_gen refuses or fails at, in one line."""


class ConfigError(InfraGenError, ValueError):
    """A configuration value is not allowed: ``key: what is wrong; allowed: ...``."""

    def __init__(self, key: str, message: str) -> None:
        key_shown = key if len(key) <= 80 and not _CONTROL.search(key) else shown(key, 80)
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
