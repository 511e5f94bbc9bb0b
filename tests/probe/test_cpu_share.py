"""The probe at the CPU share Lambda gives a 128 MB function: 7.2 % of one core.

Every run here executes inside a CPU cgroup held to that share (the interpreter's start-up
included), against real nginx tasks that answer after 200 ms and names served by dnsmasq,
with a Lambda context that counts down like Lambda's. What the probe does at full speed
is not evidence here: a lookup that takes 50 ms at full speed takes 0.7 s at this share.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import harness
from tests.support.emf import validate_emf

TIMEOUT = 2.0  # the template's default PROBE_TIMEOUT_SECONDS
LAMBDA_TIMEOUT_MS = 9000  # what the template gives the function for that timeout
MARGIN = 0.5  # the probe keeps this much of Lambda's time to write its metrics


@pytest.fixture(scope="module")
def cgroup(probe_world: harness.ProbeWorld) -> Iterator[Path]:
    # The suite runs as root (CI included): no cgroup is a broken set-up, never a skip.
    with harness.cpu_share(harness.LAMBDA_128_CPU_SHARE) as procs:
        yield procs


def run_fleet(
    world: harness.ProbeWorld, cgroup: Path, services: int, *, remaining_ms: int, **env: str
) -> harness.RunResult:
    names = [f"fleet-{index}" for index in range(services)]
    variables = world.env(",".join(names), PROBE_TIMEOUT_SECONDS=str(TIMEOUT), **env)
    result = world.run(
        harness.PROBE_SOURCE, variables, remaining_ms=remaining_ms, cgroup=cgroup, timeout=120
    )
    assert result.exit_status == 0, result.error or result.stderr
    assert result.stderr == ""
    # Whatever happened, the run wrote one valid EMF line per service, last.
    docs = [validate_emf(line) for line in result.stdout_lines[-services:]]
    assert [doc["Service"] for doc in docs] == names
    assert len(result.emf) == services
    return result


@pytest.mark.parametrize("services", [1, 5, 10, 20])
def test_every_task_of_every_service_is_found_and_answers(
    probe_world: harness.ProbeWorld, cgroup: Path, services: int
) -> None:
    result = run_fleet(probe_world, cgroup, services, remaining_ms=LAMBDA_TIMEOUT_MS)
    assert result.discovery == [], "a lookup failed at Lambda's CPU share"
    found = {(probe["service"], probe["address"]) for probe in result.probes if probe["ok"]}
    assert len(found) == services * len(harness.FLEET), [p for p in result.probes if not p["ok"]][
        :3
    ]
    for doc in result.emf:
        assert (doc["DiscoveredInstances"], doc["SuccessfulRequests"]) == (8, 8)
    assert result.duration_s < TIMEOUT + MARGIN
    assert result.duration_s < LAMBDA_TIMEOUT_MS / 1000


@pytest.mark.parametrize("remaining_ms", [LAMBDA_TIMEOUT_MS, 1000, 300])
def test_forty_services_end_before_lambda_does_with_their_metrics(
    probe_world: harness.ProbeWorld, cgroup: Path, remaining_ms: int
) -> None:
    # 320 tasks, with 9 s, 1 s and 0.3 s of Lambda's time left: run_fleet checks the 40
    # EMF lines; the run ends before the time left, and by the timeout.
    result = run_fleet(probe_world, cgroup, 40, remaining_ms=remaining_ms)
    assert result.duration_s < min(TIMEOUT + MARGIN, remaining_ms / 1000)
    lines = len(result.probes) + len(result.discovery)
    assert lines >= 40, "each service has its probe or discovery lines"
    if remaining_ms == LAMBDA_TIMEOUT_MS:
        assert result.discovery == []


def test_one_second_left_still_finds_every_task(
    probe_world: harness.ProbeWorld, cgroup: Path
) -> None:
    # 0.5 s of it is kept for the metrics: the lookup and 200 ms tasks fit the other half.
    result = run_fleet(probe_world, cgroup, 1, remaining_ms=1000)
    assert [probe["ok"] for probe in result.probes] == [True] * len(harness.FLEET)
    assert result.duration_s < 1.0


def test_black_holed_resolver_ends_as_dns_timeout_at_the_deadline(
    probe_world: harness.ProbeWorld, cgroup: Path
) -> None:
    variables = probe_world.env("fleet-0", PROBE_TIMEOUT_SECONDS=str(TIMEOUT))
    result = probe_world.run(
        harness.PROBE_SOURCE,
        variables,
        blackhole_dns=True,
        remaining_ms=LAMBDA_TIMEOUT_MS,
        cgroup=cgroup,
        timeout=120,
    )
    assert result.exit_status == 0, result.error
    assert [line["error"] for line in result.discovery] == ["dns_timeout"]
    assert TIMEOUT * 0.9 < result.duration_s < TIMEOUT + MARGIN
    (emf,) = result.emf
    assert emf["DiscoveredInstances"] == 0


def test_endless_tiny_chunks_end_at_once(probe_world: harness.ProbeWorld, cgroup: Path) -> None:
    # A body of 1-byte chunks that never ends, decoded at Lambda's CPU: cut at the body limit.
    variables = probe_world.env("hostile-chunk-flood", PROBE_TIMEOUT_SECONDS=str(TIMEOUT))
    result = probe_world.run(
        harness.PROBE_SOURCE, variables, remaining_ms=LAMBDA_TIMEOUT_MS, cgroup=cgroup
    )
    (probe,) = result.probes
    assert probe["error"] == "body_too_large"
    assert result.duration_s < TIMEOUT / 2
