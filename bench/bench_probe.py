"""Benchmark of the probe handler; prints ratios that show its cost and its bounds.

(a) import: a Python process that loads the handler vs one that runs ``pass``.
(b) fan-out: one run over 8 instances that each answer after 200 ms vs one run over a
    single such instance; near 1 because the probes run concurrently.
(c) deadline: the longest run when one instance never answers vs the configured timeout.

(b) and (c) use the real-server harness of the tests (root, nginx-light, dnsmasq-base):
    python3 bench/bench_probe.py
"""

from __future__ import annotations

import contextlib
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import harness  # noqa: E402  (lives in tests/, shared with the test suite)

RUNS = 7
DELAY_SECONDS = 0.2
DELAYED = [f"127.0.1.{host}" for host in range(1, 9)]
TIMEOUT_SECONDS = 1.0
# Runs the handler file as Lambda does on a cold start: compile it and execute its body.
LOAD_HANDLER = (
    "import sys; p = sys.argv[1]; exec(compile(open(p).read(), p, 'exec'), {'__name__': 'index'})"
)


class _DelayedAnswer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(DELAY_SECONDS)
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _delayed_servers(addresses: list[str]) -> Iterator[None]:
    servers = [
        http.server.ThreadingHTTPServer((address, harness.PORT), _DelayedAnswer)
        for address in addresses
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _process_seconds(args: list[str]) -> float:
    times = []
    for _ in range(RUNS * 3):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_import() -> None:
    bare = _process_seconds(["-c", "pass"])
    loaded = _process_seconds(["-c", LOAD_HANDLER, str(harness.PROBE_SOURCE)])
    print(
        f"(a) import: python -c pass {bare * 1000:.1f} ms, with the handler loaded "
        f"{loaded * 1000:.1f} ms (median of {RUNS * 3}), ratio {loaded / bare:.2f}"
    )


def _run_seconds(world: harness.ProbeWorld, service: str, timeout: float) -> list[float]:
    env = world.env(service, PROBE_TIMEOUT_SECONDS=str(timeout))
    durations = []
    for _ in range(RUNS):
        result = world.run(harness.PROBE_SOURCE, env)
        if result.exit_status != 0:
            raise harness.HarnessError(f"handler failed:\n{result.error}")
        durations.append(result.duration_s)
    return durations


def bench_fan_out(world: harness.ProbeWorld) -> None:
    one = statistics.median(_run_seconds(world, "delayed-1", timeout=2.0))
    eight = statistics.median(_run_seconds(world, "delayed-8", timeout=2.0))
    print(
        f"(b) fan-out: 1 instance {one * 1000:.1f} ms, 8 instances {eight * 1000:.1f} ms "
        f"(each answers after {DELAY_SECONDS * 1000:.0f} ms, median of {RUNS}), "
        f"ratio {eight / one:.2f}"
    )


def bench_deadline(world: harness.ProbeWorld) -> None:
    longest = max(_run_seconds(world, "silent-mixed", timeout=TIMEOUT_SECONDS))
    print(
        f"(c) deadline: timeout {TIMEOUT_SECONDS:.2f} s, longest of {RUNS} runs with one "
        f"instance that never answers {longest:.3f} s, ratio {longest / TIMEOUT_SECONDS:.3f}"
    )


def main() -> int:
    bench_import()
    reason = harness.unavailable_reason()
    if reason is not None:
        print(f"(b), (c) skipped: {reason}")
        return 1
    records = {"delayed-1": DELAYED[:1], "delayed-8": DELAYED}
    with (
        tempfile.TemporaryDirectory(prefix="probe-bench-") as workdir,
        harness.start_world(Path(workdir), extra_records=records) as world,
        _delayed_servers(DELAYED),
    ):
        bench_fan_out(world)
        bench_deadline(world)
    return 0


if __name__ == "__main__":
    sys.exit(main())
