"""How a deployment's progress is shown: one live line on a terminal, plain lines otherwise.

On a terminal, a status line (resources done of total, elapsed time, the resource in
progress) is redrawn in place, and only failures are printed above it. Elsewhere (CI
logs, a pipe) every resource event is one line of its own, with no control characters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from ..deploy.changeset import Event

__all__ = ["Progress", "elapsed"]

_CLEAR = "\r\x1b[K"  # to the line's start, erase to its end


def elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _done(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS")


class Progress:
    """Receives a run's events (:meth:`event`) and clock ticks (:meth:`tick`)."""

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
