"""Benchmark of the probe handler; prints ratios that show its cost and its bounds.

(a) import: a Python process that loads the handler vs one that runs ``pass``
    (goal: at most 20 ms more).
(b) fan-out: one run over 8 instances that each answer after 200 ms vs one run over a
    single such instance; near 1 because the probes run concurrently (goal: at most 1.3).
(c) deadline: the slowest run against hostile servers (trickles, floods, silence) vs the
    configured timeout; the requests end at the timeout, the lookup's child process
    before it adds its start-up (goal: at most timeout + 100 ms).
(d) memory: the peak RSS of a run against 8 tasks that flood 98 headers of 64 KB each,
    vs one against healthy tasks (the function has 128 MB).
(e) services: the wall time of a run over 1, 5, 10 and 20 services of 8 tasks each that
    answer after 200 ms, vs a run over one such task (one request), at full speed and in
    a CPU cgroup at the share Lambda gives 128 MB (7.2 % of a core); and the import at that
    share vs a bare interpreter there (goal: every task found, each run within the 2 s
    timeout).

Runs under the interpreter that runs it; ``make bench`` runs it under the default one and
the newest CPython found. (b)-(d) use the real-server harness of the tests (root,
nginx-light, dnsmasq-base):
    flock /tmp/infra_gen_probe.lock python3 bench/bench_probe.py
"""

from __future__ import annotations

import contextlib
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

import harness  # noqa: E402  (lives in tests/support/, shared with the test suite)

RUNS = 7
DELAY_SECONDS = 0.2
DELAYED = [f"127.0.1.{host}" for host in range(1, 9)]
TIMEOUT_SECONDS = 1.0
HOSTILE_SERVICES = ["trickling", "silent-mixed", "hostile-continue-flood", "hostile-trailer-flood"]
ENV = {"PROBE_STACK": "bench", "PROBE_SERVICE_NAMES": "web", "PROBE_NAMESPACE": "bench.internal"}
SERVICE_COUNTS = [1, 5, 10, 20]
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


def _process_seconds(args: list[str], cgroup: Path | None = None) -> float:
    command = [sys.executable, *args]
    if cgroup is not None:
        command = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup), *command]
    times = []
    for _ in range(RUNS * 3):
        started = time.perf_counter()
        subprocess.run(command, check=True, env={**os.environ, **ENV})
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_import() -> None:
    bare = _process_seconds(["-c", "pass"])
    loaded = _process_seconds(["-c", LOAD_HANDLER, str(harness.PROBE_SOURCE)])
    print(
        f"(a) import: python -c pass {bare * 1000:.1f} ms, with the handler loaded "
        f"{loaded * 1000:.1f} ms (median of {RUNS * 3}), +{(loaded - bare) * 1000:.1f} ms, "
        f"ratio {loaded / bare:.2f}"
    )


def _runs(world: harness.ProbeWorld, service: str, timeout: float) -> list[harness.RunResult]:
    env = world.env(service, PROBE_TIMEOUT_SECONDS=str(timeout))
    results = []
    for _ in range(RUNS):
        result = world.run(harness.PROBE_SOURCE, env)
        if result.exit_status != 0:
            raise harness.HarnessError(f"handler failed:\n{result.error}")
        results.append(result)
    return results


def _run_seconds(world: harness.ProbeWorld, service: str, timeout: float) -> list[float]:
    return [result.duration_s for result in _runs(world, service, timeout)]


def bench_fan_out(world: harness.ProbeWorld) -> None:
    one = statistics.median(_run_seconds(world, "delayed-1", timeout=2.0))
    eight = statistics.median(_run_seconds(world, "delayed-8", timeout=2.0))
    print(
        f"(b) fan-out: 1 instance {one * 1000:.1f} ms, 8 instances {eight * 1000:.1f} ms "
        f"(each answers after {DELAY_SECONDS * 1000:.0f} ms, median of {RUNS}), "
        f"ratio {eight / one:.2f}"
    )


def bench_deadline(world: harness.ProbeWorld) -> None:
    slowest, latest = 0.0, 0.0
    for service in HOSTILE_SERVICES:
        for result in _runs(world, service, TIMEOUT_SECONDS):
            slowest = max(slowest, result.duration_s)
            latest = max([latest] + [probe["latency_ms"] / 1000 for probe in result.probes])
    print(
        f"(c) deadline: timeout {TIMEOUT_SECONDS:.2f} s, slowest of {RUNS} runs against each "
        f"of {', '.join(HOSTILE_SERVICES)}: run {slowest:.3f} s "
        f"(+{(slowest - TIMEOUT_SECONDS) * 1000:.0f} ms, ratio {slowest / TIMEOUT_SECONDS:.3f}),"
        f" requests {latest:.3f} s (+{(latest - TIMEOUT_SECONDS) * 1000:.0f} ms)"
    )


def bench_memory(world: harness.ProbeWorld) -> None:
    def peak_mb(service: str) -> float:
        return max(r.runs[0]["max_rss_kb"] for r in _runs(world, service, TIMEOUT_SECONDS)) / 1024

    healthy, flooded = peak_mb("healthy"), peak_mb("header-flood-8")
    print(
        f"(d) memory: peak RSS {flooded:.1f} MB against 8 tasks flooding "
        f"{harness.FLOOD_HEADERS} headers of {harness.FLOOD_HEADER_BYTES // 1024} KB, "
        f"{healthy:.1f} MB against 3 healthy tasks, ratio {flooded / healthy:.2f}; "
        f"{flooded / 128:.0%} of the function's 128 MB"
    )


def bench_services(world: harness.ProbeWorld) -> None:
    with harness.cpu_share(harness.LAMBDA_128_CPU_SHARE) as procs:
        for label, cgroup in (("full speed", None), ("128 MB share", procs)):

            def median_run(names: str, cgroup: Path | None = cgroup) -> tuple[float, int]:
                env = world.env(names, PROBE_TIMEOUT_SECONDS="2")
                results = [
                    world.run(harness.PROBE_SOURCE, env, remaining_ms=9000, cgroup=cgroup)
                    for _ in range(RUNS)
                ]
                found = min(sum(p["ok"] for p in r.probes) for r in results)
                return statistics.median(r.duration_s for r in results), found

            one, _ = median_run("one-task")
            cells = []
            for count in SERVICE_COUNTS:
                seconds, found = median_run(",".join(f"fleet-{i}" for i in range(count)))
                cells.append(
                    f"{count}x8 {seconds * 1000:.0f} ms (ratio {seconds / one:.2f}, "
                    f"found {found}/{count * 8})"
                )
            print(f"(e) services, {label}: one request {one * 1000:.0f} ms; " + "; ".join(cells))
        bare = _process_seconds(["-c", "pass"], procs)
        loaded = _process_seconds(["-c", LOAD_HANDLER, str(harness.PROBE_SOURCE)], procs)
        print(
            f"(e) import at the 128 MB share: python -c pass {bare * 1000:.0f} ms, with the "
            f"handler loaded {loaded * 1000:.0f} ms, ratio {loaded / bare:.2f}"
        )


def main() -> int:
    bench_import()
    reason = harness.unavailable_reason()
    if reason is not None:
        print(f"(b), (c), (d) skipped: {reason}")
        return 1
    records = {"delayed-1": DELAYED[:1], "delayed-8": DELAYED, "one-task": harness.FLEET[:1]}
    with (
        tempfile.TemporaryDirectory(prefix="probe-bench-") as workdir,
        harness.start_world(Path(workdir), extra_records=records) as world,
        _delayed_servers(DELAYED),
    ):
        print(f"Python {sys.version.split()[0]}")
        bench_fan_out(world)
        bench_deadline(world)
        bench_memory(world)
        bench_services(world)
    return 0


if __name__ == "__main__":
    sys.exit(main())
