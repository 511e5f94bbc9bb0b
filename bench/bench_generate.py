"""Generation cost of ``python -m infra_gen`` against a bare import of its dependencies.

Prints median wall time and peak RSS of each command over several runs, and the
ratios. A benchmark, not a test: nothing here passes or fails.

    python bench/bench_generate.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

BASELINE = [sys.executable, "-c", "import troposphere, awacs"]
GENERATE = [sys.executable, "-m", "infra_gen"]
GENERATE_LARGEST = GENERATE + [
    "--set", "network.az_count=3", "--set", "security.flow_logs=true",
    "--set", "security.kms_logs=true", "--set", "security.alb_access_logs=true",
]  # fmt: skip

# Runs one child and reports its wall time and peak RSS: RUSAGE_CHILDREN in a
# fresh process covers exactly that child.
_PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
print(json.dumps([wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))
"""


def measure(command: list[str], runs: int) -> tuple[float, float]:
    walls, peaks = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _PROBE, *command], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        wall, peak_kib = json.loads(out)
        walls.append(wall)
        peaks.append(peak_kib / 1024)
    return statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    subprocess.run(GENERATE, check=True, stdout=subprocess.DEVNULL)  # warm the caches
    base_wall, base_rss = measure(BASELINE, runs)
    print(f"{'command':<34}{'median s':>10}{'peak MiB':>10}{'time x':>8}{'mem x':>8}")
    print(f"{'import troposphere, awacs':<34}{base_wall:>10.3f}{base_rss:>10.1f}{1:>8.2f}{1:>8.2f}")
    for label, command in (("python -m infra_gen", GENERATE),
                           ("  largest config", GENERATE_LARGEST)):  # fmt: skip
        wall, rss = measure(command, runs)
        print(f"{label:<34}{wall:>10.3f}{rss:>10.1f}{wall / base_wall:>8.2f}{rss / base_rss:>8.2f}")
    started = time.perf_counter()
    size = len(subprocess.run(GENERATE, check=True, capture_output=True).stdout)
    print(f"template: {size} bytes YAML ({size / 51200:.0%} of the 51,200-byte inline limit); "
          f"one more run {time.perf_counter() - started:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
