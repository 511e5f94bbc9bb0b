"""The probe against real servers that answer HTTP/1.1 in each of the ways it must read.

uvicorn with httptools (FastAPI's usual install) answers in chunks when the app gives no
Content-Length, and 204 and 304 without a body; Node's http module sends 103 Early Hints
before its answer; nginx set up as Envoy is by default answers HTTP/1.0 with 426; a
server-first protocol (SMTP) sends its banner before reading anything. Each runs in the
probe world (tests/support/harness.py), under both interpreters, and at Lambda's 128 MB CPU
share; a missing server fails the suite.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import harness
from tests.support.probe import MARGIN, TIMEOUT, run_probe

# service, path -> (status, body bytes as sent) of a successful probe.
ANSWERS = {
    # Chunks: two body parts of "chunked by uvicorn\n", their sizes, and the last chunk.
    ("uvicorn", ""): (200, len(b"8\r\nchunked \r\nb\r\nby uvicorn\n\r\n0\r\n")),
    ("uvicorn", "/no-content"): (204, 0),
    ("uvicorn", "/not-modified"): (304, 0),
    # 103 Early Hints, then 200 with Content-Length, or in chunks.
    ("early-hints", ""): (200, len(b"ok\n")),
    ("early-hints", "/chunked"): (200, len(b"6\r\nearly \r\n6\r\nhints\n\r\n0\r\n")),
    # 426 to HTTP/1.0; the probe asks in HTTP/1.1.
    ("http11-only", ""): (200, len(b"ok\n")),
}


@pytest.mark.parametrize(("service", "path"), ANSWERS, ids=[f"{s}{p}" for s, p in ANSWERS])
def test_real_server_answer_succeeds(
    probe_world: harness.ProbeWorld, service: str, path: str
) -> None:
    result = run_probe(probe_world, service, path=path)
    (probe,) = result.probes
    assert (probe["ok"], probe["status"], probe["bytes"], probe["error"]) == (
        True,
        *ANSWERS[service, path],
        None,
    )
    assert probe["latency_ms"] < TIMEOUT * 1000 / 2


def test_request_is_http_1_1_with_host_and_connection_close(
    probe_world: harness.ProbeWorld,
) -> None:
    # nginx answers this instance 426 when a request is HTTP/1.0 (Envoy's default), and
    # logs the request line and the Host it was sent.
    run_probe(probe_world, "http11-only")
    log = (probe_world.workdir / "nginx-access.log").read_text().splitlines()
    line = f'{harness.HTTP11_ONLY} "http11-only.{harness.NAMESPACE}" "GET / HTTP/1.1" 200 3'
    assert line in log


def test_http_1_0_request_gets_426_from_the_envoy_like_server(
    probe_world: harness.ProbeWorld,
) -> None:
    # The same server, asked in HTTP/1.0 as the probe used to ask: it refuses.
    with socket.create_connection((harness.HTTP11_ONLY, probe_world.port), timeout=5) as conn:
        conn.sendall(f"GET / HTTP/1.0\r\nHost: x.{harness.NAMESPACE}\r\n\r\n".encode())
        assert conn.recv(64).startswith(b"HTTP/1.1 426 ")


def test_server_first_banner_is_a_bad_response_at_once(probe_world: harness.ProbeWorld) -> None:
    # The banner comes at once and the connection stays open: no waiting for the deadline.
    result = run_probe(probe_world, "banner")
    (probe,) = result.probes
    assert (probe["ok"], probe["error"], probe["status"]) == (False, "bad_response", None)
    assert probe["latency_ms"] < TIMEOUT * 1000 / 2
    assert result.duration_s < TIMEOUT + MARGIN


def test_each_service_is_requested_on_its_own_port_and_path(
    probe_world: harness.ProbeWorld,
) -> None:
    # "alt" is HEALTHY[0] on ALT_PORT, healthy on ALT_PATH only (404 on /, 421 on PORT's
    # names); "healthy" answers / on PORT.
    port = probe_world.port
    names = f"healthy:{port},alt:{harness.ALT_PORT}{harness.ALT_PATH},uvicorn:{port}/no-content"
    result = probe_world.run(harness.PROBE_SOURCE, probe_world.env("x", PROBE_SERVICE_NAMES=names))
    assert result.exit_status == 0, result.error
    assert result.counts == {"healthy": (3, 3, 0), "alt": (1, 1, 0), "uvicorn": (1, 1, 0)}
    ports = {(p["service"], p["port"], p["status"]) for p in result.probes}
    assert ports == {
        ("healthy", port, 200),
        ("alt", harness.ALT_PORT, 200),
        ("uvicorn", port, 204),
    }
    log = (probe_world.workdir / "nginx-access.log").read_text().splitlines()
    assert (
        f'{harness.HEALTHY[0]} "alt.{harness.NAMESPACE}" "GET {harness.ALT_PATH} HTTP/1.1" 200 4'
        in log
    )


def test_a_name_alone_is_requested_on_port_80_and_slash(probe_world: harness.ProbeWorld) -> None:
    # The name alone means port 80 (and /): the record says where the probe went.
    env = probe_world.env("x", PROBE_SERVICE_NAMES="healthy")
    result = probe_world.run(harness.PROBE_SOURCE, env)
    assert [p["port"] for p in result.probes] == [80] * len(harness.HEALTHY)


@pytest.fixture(scope="module")
def cgroup(probe_world: harness.ProbeWorld) -> Iterator[Path]:
    with harness.cpu_share(harness.LAMBDA_128_CPU_SHARE) as procs:
        yield procs


def test_real_servers_at_lambdas_cpu_share(probe_world: harness.ProbeWorld, cgroup: Path) -> None:
    # Every behaviour above in one run, the handler held to 128 MB's CPU (7.2 % of a core);
    # uvicorn-2 and early-hints-2 are the same servers under other names.
    port = probe_world.port
    names = ",".join(
        [
            f"uvicorn:{port}",
            f"uvicorn-2:{port}/no-content",
            f"early-hints:{port}",
            f"early-hints-2:{port}/chunked",
            f"http11-only:{port}",
            f"banner:{port}",
            f"alt:{harness.ALT_PORT}{harness.ALT_PATH}",
        ]
    )
    env = probe_world.env("x", PROBE_SERVICE_NAMES=names, PROBE_TIMEOUT_SECONDS="2")
    result = probe_world.run(harness.PROBE_SOURCE, env, remaining_ms=9000, cgroup=cgroup)
    assert result.exit_status == 0, result.error
    verdicts = {(p["service"], p["status"], p["error"]) for p in result.probes}
    assert verdicts == {
        ("uvicorn", 200, None),
        ("uvicorn-2", 204, None),
        ("early-hints", 200, None),
        ("early-hints-2", 200, None),
        ("http11-only", 200, None),
        ("banner", None, "bad_response"),
        ("alt", 200, None),
    }
    assert result.duration_s < 2 + MARGIN
