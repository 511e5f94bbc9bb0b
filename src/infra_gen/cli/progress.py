"""What the commands show: a deployment's progress, and the tables of changes, findings
and checks.

On a terminal, a deployment's status line (resources done of total, elapsed time, the
resource in progress) is redrawn in place, and only failures are printed above it.
Elsewhere (CI logs, a pipe) every resource event is one line of its own, with no
control characters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TextIO

from ..deploy.changeset import Event, Preview
from ..deploy.preflight import Finding
from ..deploy.verify import Check

__all__ = ["Progress", "elapsed", "show_changes", "show_checks", "show_findings"]

_CLEAR = "\r\x1b[K"  # to the line's start, erase to its end


def elapsed(seconds: float) -> str:
    """``seconds`` as a status line shows them: ``42s``, ``3m07s``."""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _done(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS")


class Progress:
    """Receives a run's events (:meth:`event`) and clock ticks (:meth:`tick`).

    Args:
        stream: where the lines go. Default: required.
        total: the resources the change set touches. Default: required.
        terminal: redraw one status line in place. Default: whether ``stream`` is a tty.
        clock: seconds, for the elapsed time. Default: ``time.monotonic``.
    """

    def __init__(
        self,
        stream: TextIO,
        total: int,
        *,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._total = total
        self._terminal = stream.isatty() if terminal is None else terminal
        self._clock = clock
        self._start = clock()
        self._status: dict[str, tuple[str, str]] = {}
        self._drawn = False

    @property
    def done(self) -> int:
        """How many resources have finished their work."""
        return sum(_done(status) for _, status in self._status.values())

    def _counter(self) -> str:
        width = len(str(self._total))
        return f"{min(self.done, self._total):>{width}}/{self._total}"

    def _line(self, text: str) -> None:
        if self._drawn:
            self._stream.write(_CLEAR)
            self._drawn = False
        self._stream.write(text + "\n")

    def _in_progress(self) -> str:
        """The resource whose work started last and has not ended."""
        for logical_id, (resource_type, status) in reversed(self._status.items()):
            if not _done(status):
                return f"{logical_id} ({resource_type}) {status}"
        return ""

    def event(self, e: Event) -> None:
        """Show a stack event: a line of its own, or on a terminal only a failure's."""
        if not e.is_stack:
            # Re-inserted, so that the order of the dict is the order of recent activity.
            self._status.pop(e.logical_id, None)
            self._status[e.logical_id] = (e.resource_type, e.status)
        failed = e.status.endswith("_FAILED")
        if self._terminal and not failed:
            self.tick()
            return
        when = elapsed(self._clock() - self._start)
        reason = f"  {e.reason}" if e.reason else ""
        self._line(
            f"{when:>7} {self._counter()} {e.status:<28} {e.logical_id} {e.resource_type}{reason}"
        )
        if self._terminal:
            self.tick()

    def note(self, source: str, text: str) -> None:
        """A line of news from elsewhere (ECS), kept on screen like a failure."""
        when = elapsed(self._clock() - self._start)
        self._line(f"{when:>7} {self._counter()} {source:<28} {text}")
        if self._terminal:
            self.tick()

    def tick(self) -> None:
        """Redraw the terminal's status line; nothing elsewhere (no noise in logs)."""
        if not self._terminal:
            return
        when = elapsed(self._clock() - self._start)
        current = self._in_progress()
        current = f"  {current}" if current else ""
        self._stream.write(f"{_CLEAR}{when:>7} {self._counter()} resources{current}")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the status line, so that what follows starts on a line of its own."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


def show_changes(p: Preview, out: TextIO) -> None:
    """A change set's changes, one line each, replacements first (they lose a live
    resource), each with the properties that cause it."""
    if not p.changes:
        print(f"Stack {p.stack_name}: no changes.", file=out)
        return
    verb = "create" if p.change_set_type == "CREATE" else "update"
    replaced = [c for c in p.changes if c.replaces]
    print(
        f"Stack {p.stack_name}: {len(p.changes)} changes to {verb}"
        f"{f', {len(replaced)} REPLACEMENTS' if replaced else ''}",
        file=out,
    )
    width = max(len(c.logical_id) for c in p.changes)
    type_width = max(len(c.resource_type) for c in p.changes)
    for c in sorted(p.changes, key=lambda c: (not c.replaces, c.action, c.logical_id)):
        mark = {"True": "REPLACE", "Conditional": "MAY REPLACE"}.get(c.replacement, "")
        line = f"  {'!!' if c.replaces else '  '} {c.action:<7} {c.logical_id:<{width}}  "
        line += f"{c.resource_type:<{type_width}}"
        if mark:
            line += f"  {mark}"
            if c.causes:
                line += f" ({', '.join(c.causes)})"
        print(line.rstrip(), file=out)


def show_findings(findings: Sequence[Finding], out: TextIO, prefix: str = "") -> None:
    """Preflight's findings, one aligned line each: status, check, detail.

    Args:
        findings: at least one. Default: required.
        out: where the lines go. Default: required.
        prefix: put before each line, e.g. ``infra-gen: preflight: ``. Default: empty.
    """
    width = max(len(f.check) for f in findings)
    for f in findings:
        print(f"{prefix}{f.status:<4} {f.check:<{width}}  {f.detail}", file=out)


def show_checks(checks: Sequence[Check], out: TextIO) -> None:
    """verify's checks, one aligned line each; a detail's further lines, and where to
    look when a check failed, under its first."""
    width = max(len(c.name) for c in checks)
    indent = " " * (width + 7)  # continuation lines start under the detail
    for c in checks:
        first, *more = c.detail.splitlines()
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  {first}", file=out)
        for line in more:
            print(f"{indent}{line}", file=out)
        if not c.ok and c.where:
            print(f"{indent}look at: {c.where}", file=out)
