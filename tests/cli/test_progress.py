"""The progress display: a live line on a terminal (a real pseudo-terminal), plain lines
elsewhere."""

from __future__ import annotations

import io
import os
import pty
from datetime import UTC, datetime

from infra_gen.cli.progress import Progress, elapsed
from infra_gen.deploy.changeset import Event

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STACK = "AWS::CloudFormation::Stack"


def event(
    logical_id: str, status: str, resource_type: str = "AWS::EC2::VPC", reason: str = ""
) -> Event:
    return Event(f"{logical_id}-{status}", T0, logical_id, resource_type, status, reason)


RUN = [
    event("demo", "CREATE_IN_PROGRESS", STACK, "User Initiated"),
    event("Vpc", "CREATE_IN_PROGRESS"),
    event("Vpc", "CREATE_COMPLETE"),
    event("Service", "CREATE_IN_PROGRESS", "AWS::ECS::Service"),
    event("Topic", "CREATE_IN_PROGRESS", "AWS::SNS::Topic"),
    event("Topic", "CREATE_COMPLETE", "AWS::SNS::Topic"),
    event("Service", "CREATE_FAILED", "AWS::ECS::Service", "quota exceeded"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def play(progress: Progress, clock: Clock) -> None:
    for e in RUN:
        clock.now += 65
        progress.event(e)
    progress.tick()
    progress.close()


def test_plain_lines_one_per_event_without_control_characters() -> None:
    out, clock = io.StringIO(), Clock()
    play(Progress(out, total=3, clock=clock), clock)
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == len(RUN)
    assert lines[0].split() == [
        "1m05s",
        "0/3",
        "CREATE_IN_PROGRESS",
        "demo",
        STACK,
        "User",
        "Initiated",
    ]
    assert lines[2].split() == ["3m15s", "1/3", "CREATE_COMPLETE", "Vpc", "AWS::EC2::VPC"]
    assert lines[-1].split()[:5] == [
        "7m35s",
        "3/3",
        "CREATE_FAILED",
        "Service",
        "AWS::ECS::Service",
    ]
    assert lines[-1].endswith("  quota exceeded")


def test_terminal_redraws_one_line_and_keeps_failures() -> None:
    master, slave = pty.openpty()
    chunks = []
    try:
        with os.fdopen(slave, "w", encoding="utf-8") as stream:
            assert stream.isatty()  # the display decides from the stream itself
            clock = Clock()
            play(Progress(stream, total=3, clock=clock), clock)
        # The terminal side closed: read to the end (Linux reports EIO there).
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    text = b"".join(chunks).decode().replace("\r\n", "\n")  # the pty's ONLCR
    # Each redraw goes back to the line's start and erases it.
    frames = text.split("\r\x1b[K")
    assert len(frames) > len(RUN)
    shown = [f.strip() for f in frames]
    # The line names the resource whose work started last and is still going on ...
    assert "4m20s 1/3 resources  Service (AWS::ECS::Service) CREATE_IN_PROGRESS" in shown
    assert "5m25s 1/3 resources  Topic (AWS::SNS::Topic) CREATE_IN_PROGRESS" in shown
    # ... and when that one is done, the one still going on.
    assert "6m30s 2/3 resources  Service (AWS::ECS::Service) CREATE_IN_PROGRESS" in shown
    # Only the failure stays on screen as a line of its own, with its reason.
    kept = [f for f in frames if f.endswith("\n") and "resources" not in f]
    assert kept == [
        "  7m35s 3/3 CREATE_FAILED                Service AWS::ECS::Service  quota exceeded\n"
    ]
    assert text.endswith("7m35s 3/3 resources\n")


def test_elapsed() -> None:
    assert [elapsed(s) for s in (0, 59.9, 60, 605)] == ["0s", "59s", "1m00s", "10m05s"]
