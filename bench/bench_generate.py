"""Generation cost of ``python -m infra_gen`` against a bare import of its dependencies.

Prints the median wall and CPU time and the peak RSS of each command over several
interleaved runs, and the ratios (CPU time is the steadier figure on a busy
machine). A benchmark, not a test: nothing here passes or fails.

    python bench/bench_generate.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BASELINE = [sys.executable, "-c", "import troposphere, awacs"]
GENERATE = [sys.executable, "-m", "infra_gen"]
GENERATE_LARGEST = GENERATE + [
    "--allow-large-template",
    "--set",
    "network.az_count=3",
    "--set",
    "security.flow_logs=true",
    "--set",
    "security.kms_logs=true",
    "--set",
    "security.alb_access_logs=true",
]

# As installed packages run: with their bytecode cached. A PYTHONDONTWRITEBYTECODE
# in the caller's environment would charge compiling the sources to every run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# Runs one child and reports its wall time, CPU time (user + system) and peak RSS:
# RUSAGE_CHILDREN in a fresh process covers exactly that child.
_PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps([wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))
"""
# In one process: building the default template, then rendering it each way.
_RENDER = """
import json, statistics, sys, time
from infra_gen import build_template, render
times = {"build": [], "yaml": [], "json": []}
for _ in range(int(sys.argv[1])):
    start = time.perf_counter(); t = build_template()
    times["build"].append(time.perf_counter() - start)
    for fmt in ("yaml", "json"):
        start = time.perf_counter(); render(t, fmt); times[fmt].append(time.perf_counter() - start)
print(json.dumps({k: statistics.median(v) for k, v in times.items()}))
"""

COMMANDS = {
    "import troposphere, awacs": BASELINE,
    "python -m infra_gen": GENERATE,
    "  largest config": GENERATE_LARGEST,
}


def run_once(command: list[str]) -> tuple[float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *command],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout
    wall, cpu, peak_kib = json.loads(out)
    return wall, cpu, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    for command in COMMANDS.values():  # warm the caches, write the bytecode
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    # Rounds of one run each, so that a busy moment of the machine hits every command.
    samples: dict[str, list[tuple[float, float, float]]] = {label: [] for label in COMMANDS}
    for _ in range(runs):
        for label, command in COMMANDS.items():
            samples[label].append(run_once(command))

    def medians(label: str) -> tuple[float, float, float]:
        walls, cpus, peaks = zip(*samples[label], strict=True)
        return statistics.median(walls), statistics.median(cpus), max(peaks)

    base_wall, base_cpu, base_rss = medians("import troposphere, awacs")
    print(
        f"{'command':<28}{'wall s':>8}{'cpu s':>8}{'peak MiB':>10}"
        f"{'wall x':>8}{'cpu x':>8}{'mem x':>8}"
    )
    for label in COMMANDS:
        wall, cpu, rss = medians(label)
        print(
            f"{label:<28}{wall:>8.3f}{cpu:>8.3f}{rss:>10.1f}"
            f"{wall / base_wall:>8.2f}{cpu / base_cpu:>8.2f}{rss / base_rss:>8.2f}"
        )
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", _RENDER, str(runs)], check=True, capture_output=True, env=ENV
        ).stdout
    )
    print(
        f"in one process: build {found['build'] * 1000:.1f} ms, render YAML "
        f"{found['yaml'] * 1000:.1f} ms, JSON {found['json'] * 1000:.1f} ms "
        f"(YAML {found['yaml'] / found['json']:.1f}x JSON, "
        f"{found['yaml'] / found['build']:.2f}x the build)"
    )
    started = time.perf_counter()
    size = len(subprocess.run(GENERATE, check=True, capture_output=True, env=ENV).stdout)
    print(
        f"template: {size} bytes YAML ({size / 51200:.0%} of the 51,200-byte inline limit); "
        f"one more run {time.perf_counter() - started:.3f} s"
    )


if __name__ == "__main__":
    main()
