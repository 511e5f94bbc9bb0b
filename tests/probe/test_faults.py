"""The probe against servers and resolvers that misbehave, and in a warm container.

Each test asserts the record (the error value), the metrics (through ``run_probe``, which
checks that they agree with the records) and that the run ends within its deadline.
"""

from __future__ import annotations

import pytest

from tests.support import harness
from tests.support.probe import MARGIN, TIMEOUT, run_probe

# kind -> (error, status, body bytes counted, None: any). The status is that of a whole,
# valid head; a chunked body counts as sent, chunk sizes included (trailers not).
RESPONSES = {
    "no-response": ("empty_response", None, 0),
    "truncated-status": ("incomplete_head", None, 0),
    "truncated-headers": ("incomplete_head", None, 0),
    "short-body": ("incomplete_body", 200, 10),
    "cut-chunk": ("incomplete_body", 200, len(b"64\r\n") + 10),
    "not-http": ("bad_response", None, 0),
    "bad-chunk-size": ("bad_response", 200, 0),
    "conflicting-lengths": ("bad_response", None, 0),
    "chunked": (None, 200, len(b"64\r\n\r\nC8;name=value\r\n\r\n0\r\n") + 300),
    "close-delimited": (None, 200, 100),
    "interim-then-ok": (None, 200, 2),
    "trickle-status": ("timeout", None, 0),
    "trickle-headers": ("timeout", None, 0),
    "trickle-chunks": ("timeout", 200, None),
    "trickle-continue": ("timeout", None, 0),
    "continue-flood": ("headers_too_large", 100, 0),
    "trailer-flood": ("headers_too_large", 200, len(b"2\r\nok\r\n0\r\n")),
    "header-flood": ("headers_too_large", None, 0),
    "chunk-flood": ("body_too_large", 200, 65537),
    "nul-in-name": ("bad_response", None, 0),
    "space-in-name": ("bad_response", None, 0),
    "separator-in-name": ("bad_response", None, 0),
    "nul-in-value": ("bad_response", None, 0),
    "bare-cr-in-value": ("bad_response", None, 0),
    "status-999": ("bad_response", None, 0),
    "folded-field": (None, 200, 2),
    "length-held": (None, 200, 2),
    "chunks-held": (None, 200, len(b"2\r\nok\r\n0\r\n")),
    "no-content-held": (None, 204, 0),
    "not-modified-held": (None, 304, 0),
    "bare-lf-held": ("bad_response", None, 0),
    "lone-cr-held": ("bad_response", None, 0),
    "nul-held": ("bad_response", None, 0),
    "switching-held": ("bad_response", None, 0),
    "gzip-coding": ("bad_response", None, 0),
    "length-and-chunks": ("bad_response", None, 0),
    "cut-trailers": ("incomplete_body", 200, len(b"2\r\nok\r\n0\r\n")),
}


@pytest.mark.parametrize("kind", RESPONSES)
def test_response_is_judged_complete_or_not(probe_world: harness.ProbeWorld, kind: str) -> None:
    result = run_probe(probe_world, f"hostile-{kind}")
    (probe,) = result.probes
    error, status, size = RESPONSES[kind]
    assert (probe["error"], probe["status"]) == (error, status)
    assert probe["bytes"] == size or size is None
    assert result.answered == (error is None)
    assert result.duration_s < TIMEOUT + MARGIN
    if probe["error"] == "timeout":
        assert probe["latency_ms"] >= 0.9 * TIMEOUT * 1000
    if kind.endswith("-held"):
        # The server keeps the connection open: judged by its bytes, not at the deadline.
        assert probe["latency_ms"] < TIMEOUT * 1000 / 2


@pytest.mark.parametrize(
    ("service", "size", "limit"),
    [
        ("huge", harness.HUGE_BODY_BYTES, "PROBE_MAX_BODY_BYTES"),
        ("hostile-close-delimited", 100, "PROBE_MAX_BODY_BYTES"),
    ],
    ids=["content-length", "up-to-the-close"],
)
def test_body_of_exactly_the_limit_succeeds_and_one_byte_more_fails(
    probe_world: harness.ProbeWorld, service: str, size: int, limit: str
) -> None:
    (exact,) = run_probe(probe_world, service, **{limit: str(size)}).probes
    assert (exact["ok"], exact["bytes"], exact["error"]) == (True, size, None)
    (over,) = run_probe(probe_world, service, **{limit: str(size - 1)}).probes
    assert (over["ok"], over["bytes"], over["error"]) == (False, size, "body_too_large")


def test_header_flood_from_eight_tasks_is_cut_by_the_header_limit(
    probe_world: harness.ProbeWorld,
) -> None:
    # 8 x 98 headers of 64 KB: the probe keeps at most about 128 KB per task.
    result = run_probe(probe_world, "header-flood-8")
    assert [probe["error"] for probe in result.probes] == ["headers_too_large"] * 8
    assert result.duration_s < TIMEOUT + MARGIN
    (run,) = result.runs
    assert run["max_rss_kb"] < 64 * 1024  # the function has 128 MB


# resolver -> what discovery reports (None: the name resolves through the answer anyway).
RESOLVERS = {
    "wrong-id": "dns_timeout",  # ignored, as an answer to another query
    "garbage": "dns_timeout",
    "servfail": "dns_error",
    "compression-loop": "no_address",  # the record's name is not the question's
    "truncated-answer": "dns_error",  # malformed
    "flood-then-answer": None,
    "truncated-then-tcp": "dns_error",  # never retried over TCP: Cloud Map's never are
    "truncated-then-closed": "dns_error",
    "truncated-then-refused": "dns_error",
    "other-question": "dns_timeout",  # ignored
    "other-name": "no_address",
    "not-a-response": None,  # the query echoed back is ignored
    "nxdomain-then-answer": "name_not_found",
}


@pytest.mark.parametrize("resolver", RESOLVERS)
def test_hostile_resolver_costs_at_most_the_timeout(
    probe_world: harness.ProbeWorld, resolver: str
) -> None:
    result = run_probe(probe_world, "healthy", resolver=resolver, PROBE_TIMEOUT_SECONDS="0.5")
    if RESOLVERS[resolver] is None:
        assert result.discovery == []
        assert [(p["address"], p["ok"]) for p in result.probes] == [(harness.HEALTHY[0], True)]
    else:
        assert [line["error"] for line in result.discovery] == [RESOLVERS[resolver]]
        assert result.probes == []
    assert result.duration_s < 0.5 + MARGIN
    assert result.runs[0]["children"] == 0  # the lookup's process is gone with the run


def test_name_without_an_address_is_no_address(probe_world: harness.ProbeWorld) -> None:
    result = run_probe(probe_world, "v6-only")
    assert [line["error"] for line in result.discovery] == ["no_address"]


def test_fifty_warm_runs_leave_nothing_behind(probe_world: harness.ProbeWorld) -> None:
    # One process, as a warm Lambda container: every trickle outlasts every run.
    timeout = 0.2
    env = probe_world.env("trickling-mixed", PROBE_TIMEOUT_SECONDS=str(timeout))
    result = probe_world.run(harness.PROBE_SOURCE, env, runs=50)
    assert result.exit_status == 0, result.error
    held = {key: result.baseline[key] for key in ("threads", "fds", "children")}
    assert held == {"threads": 1, "fds": result.baseline["fds"], "children": 0}
    for run in result.runs:
        assert {key: run[key] for key in held} == held
        (summary,) = run["return"]
        assert (summary["SuccessfulRequests"], summary["FailedRequests"]) == (
            1,
            len(harness.TRICKLING),
        )
        assert run["duration_s"] < 2 * timeout + MARGIN
    timeouts = [p["error"] for p in result.probes if p["address"] != harness.HEALTHY[0]]
    assert timeouts == ["timeout"] * len(harness.TRICKLING) * 50
    assert len(result.emf) == 50


def test_lambda_remaining_time_ends_the_run_first(probe_world: harness.ProbeWorld) -> None:
    # 1.2 s left and a 2 s timeout: the run ends 0.5 s before Lambda would stop it.
    result = run_probe(probe_world, "stalled", remaining_ms=1200, PROBE_TIMEOUT_SECONDS="2")
    (probe,) = result.probes
    assert probe["error"] == "timeout"
    assert 0.6 < result.duration_s < 0.7 + MARGIN


def test_too_little_remaining_time_still_writes_the_metrics(
    probe_world: harness.ProbeWorld,
) -> None:
    result = run_probe(probe_world, "healthy", remaining_ms=300)
    assert [line["error"] for line in result.discovery] == ["dns_timeout"]
    assert result.duration_s < MARGIN


def test_a_wakeup_without_a_datagram_is_waited_through(probe_world: harness.ProbeWorld) -> None:
    # epoll may report a UDP socket readable for a datagram the kernel then drops (a bad
    # checksum): recvfrom raises BlockingIOError, and the lookup waits on.
    spurious = """
import socket
class Flaky(socket.socket):
    woken = False
    def recvfrom(self, *args):
        if not Flaky.woken:
            Flaky.woken = True
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return super().recvfrom(*args)
module.socket.socket = Flaky
"""
    result = probe_world.run(harness.PROBE_SOURCE, probe_world.env("healthy"), patch=spurious)
    assert result.exit_status == 0, result.error
    assert result.answered == 3


def test_no_thread_is_needed(probe_world: harness.ProbeWorld) -> None:
    # The old probe broke with "can't start new thread"; this one starts none.
    no_threads = """
import _thread, threading
def refuse(*args, **kwargs):
    raise RuntimeError("can't start new thread")
_thread.start_new_thread = threading.Thread.start = refuse
"""
    result = probe_world.run(harness.PROBE_SOURCE, probe_world.env("healthy"), patch=no_threads)
    assert result.exit_status == 0, result.error
    assert result.answered == 3


@pytest.mark.parametrize(
    ("patch", "error"),
    [
        (
            "def refuse(*args):\n    raise OSError(24, 'Too many open files')\n"
            "module.socket.socket = refuse",
            "OSError: [Errno 24] Too many open files",
        ),
        (
            "def broken(*args):\n    raise RuntimeError('broken')\nmodule._run = broken",
            "RuntimeError: broken",
        ),
    ],
    ids=["no-socket", "broken-loop"],
)
def test_broken_run_says_so_instead_of_zeros(
    probe_world: harness.ProbeWorld, patch: str, error: str
) -> None:
    result = probe_world.run(harness.PROBE_SOURCE, probe_world.env("healthy"), patch=patch)
    assert result.exit_status == 1  # Lambda counts an error, which AlarmProbeErrors watches
    assert result.error is not None and error in result.error
    # No counts: zeros would read as a service without tasks.
    assert result.emf == []


# Leaves the process room for the selector and two requests' sockets (the lookup's socket is
# closed before they open): the third request's socket fails with EMFILE, a real one.
ROOM_FOR_TWO_REQUESTS = """
import os, resource
def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
limit, free = 0, 0
while free < 3:
    free += not is_open(limit)
    limit += 1
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
"""


def test_probes_cut_by_a_broken_run_say_so(probe_world: harness.ProbeWorld) -> None:
    result = probe_world.run(
        harness.PROBE_SOURCE, probe_world.env("slow-many"), patch=ROOM_FOR_TWO_REQUESTS
    )
    assert result.exit_status == 1  # the run broke: Lambda counts an error
    assert result.error is not None and "Too many open files" in result.error
    # The two requests in flight were healthy: they are cut by the run, not timed out.
    assert [probe["error"] for probe in result.probes] == ["run_broken"] * 2
    assert result.emf == []
