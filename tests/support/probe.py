"""One run of the probe handler in the probe world, checked for what every run satisfies.

It returns, prints nothing on stderr, prints only JSON lines with one valid EMF line last,
and its metrics, log lines and summary agree.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.support import harness
from tests.support.emf import validate_emf

TIMEOUT = 1.0
# Room for the lookup's child process and scheduling around a deadline; far below a second
# timeout. The time bounds themselves are measured by bench/bench_probe.py.
MARGIN = 0.5
PROBE_KEYS = [
    "level",
    "event",
    "service",
    "address",
    "port",
    "ok",
    "status",
    "latency_ms",
    "bytes",
    "error",
]
DISCOVERY_KEYS = ["level", "event", "service", "name", "instances", "error"]
COUNT_METRICS = ["DiscoveredInstances", "SuccessfulRequests", "FailedRequests"]


def run_probe(
    world: harness.ProbeWorld,
    service: str,
    code_path: Path = harness.PROBE_SOURCE,
    *,
    blackhole_dns: bool = False,
    resolver: str | None = None,
    remaining_ms: int | None = None,
    **env: str,
) -> harness.RunResult:
    """Run the handler for one service and check the invariants of every run.

    Args:
        world: the probe world (servers, resolvers) to run in.
        service: the service name the handler probes, one of harness.SERVICES.
        code_path: the handler file. Default: lambda/probe.py.
        blackhole_dns: a resolver that never answers. Default: False.
        resolver: another resolver address. Default: the world's.
        remaining_ms: the Lambda context's remaining time. Default: the harness's.
        env: further environment variables. Default: PROBE_TIMEOUT_SECONDS=TIMEOUT.

    Returns:
        The run's result, once every invariant held (an AssertionError otherwise).
    """
    env.setdefault("PROBE_TIMEOUT_SECONDS", str(TIMEOUT))
    before_ms = int(time.time() * 1000)
    result = world.run(
        code_path,
        world.env(service, **env),
        blackhole_dns=blackhole_dns,
        resolver=resolver,
        remaining_ms=remaining_ms,
    )
    after_ms = int(time.time() * 1000)

    assert result.exit_status == 0, result.error or result.stderr
    assert result.stderr == ""
    assert result.stdout_lines, "the handler printed nothing"
    emf = validate_emf(result.stdout_lines[-1])
    assert len(result.emf) == 1, "exactly one EMF line per run, printed last"
    for line in result.lines[:-1]:
        assert line["event"] in ("probe", "discovery")

    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert before_ms <= emf["_aws"]["Timestamp"] <= after_ms
    assert directive["Namespace"] == env.get("PROBE_METRIC_NAMESPACE", "InfraGen/Probe")
    assert directive["Dimensions"] == [["Stack", "Service"]]
    assert emf["Service"] == service
    assert emf["Stack"] == world.env(service, **env)["PROBE_STACK"]

    ok = [probe for probe in result.probes if probe["ok"]]
    failed = [probe for probe in result.probes if not probe["ok"]]
    assert [emf[name] for name in COUNT_METRICS] == [len(result.probes), len(ok), len(failed)]
    declared = [metric["Name"] for metric in directive["Metrics"]]
    if ok:
        assert declared == [*COUNT_METRICS, "Latency"]
        assert emf["Latency"] == [probe["latency_ms"] for probe in ok]
    else:
        assert declared == COUNT_METRICS
        assert "Latency" not in emf
    assert result.counts == {service: (len(result.probes), len(ok), len(failed))}

    for probe in result.probes:
        assert list(probe) == PROBE_KEYS
        assert probe["service"] == service
        assert probe["port"] == world.port
        assert probe["level"] == ("INFO" if probe["ok"] else "WARNING")
        assert (probe["error"] is None) == probe["ok"]
    return result
