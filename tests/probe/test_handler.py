"""The probe handler against real nginx instances, found through real DNS (dnsmasq).

Every run goes through ``run_probe``, which checks what any run must satisfy: it returns,
prints nothing on stderr, prints only JSON lines with one valid EMF line last, and its
metrics, log lines and summary agree. The tests then assert what the scenario means.
"""

from __future__ import annotations

import ast
import copy
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import harness
from tests.support.emf import EmfError, validate_emf
from tests.support.probe import COUNT_METRICS, DISCOVERY_KEYS, MARGIN, TIMEOUT, run_probe


def raised(traceback: str | None) -> str:
    """The message of the exception a traceback ends with."""
    assert traceback is not None, "the handler returned"
    return traceback.strip().splitlines()[-1].partition(": ")[2]


def by_address(result: harness.RunResult) -> dict[str, dict[str, Any]]:
    return {probe["address"]: probe for probe in result.probes}


@pytest.fixture(params=["module", "index.py copy"])
def code_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The module itself, and a byte copy named like the inlined code in a template."""
    if request.param == "module":
        return harness.PROBE_SOURCE
    copy_path = tmp_path / "index.py"
    shutil.copyfile(harness.PROBE_SOURCE, copy_path)
    return copy_path


def test_healthy_instances_are_all_discovered_and_succeed(
    probe_world: harness.ProbeWorld, code_path: Path
) -> None:
    result = run_probe(probe_world, "healthy", code_path)

    # One line per instance, as each ends.
    assert sorted(probe["address"] for probe in result.probes) == harness.HEALTHY
    assert result.discovery == []
    for probe in result.probes:
        assert (probe["ok"], probe["status"], probe["bytes"], probe["error"]) == (
            True,
            200,
            len(b"ok\n"),
            None,
        )
        assert 0 < probe["latency_ms"] < TIMEOUT * 1000
    assert result.counts == {"healthy": (3, 3, 0)}


def test_requests_carry_the_discovery_name_as_host(probe_world: harness.ProbeWorld) -> None:
    # nginx answers 421 to any other Host; its access log records the Host it was sent.
    run_probe(probe_world, "healthy")
    log = (probe_world.workdir / "nginx-access.log").read_text().splitlines()
    for address in harness.HEALTHY:
        assert f'{address} "healthy.{harness.NAMESPACE}" "GET / HTTP/1.1" 200 3' in log


FAULTS = [
    pytest.param("refused", "connection_refused", None, id="refused"),
    pytest.param("http-503", "http_503", 503, id="http-503"),
    pytest.param("silent", "timeout", None, id="never-answers"),
    pytest.param("stalled", "timeout", None, id="slower-than-timeout"),
    pytest.param("trickle", "timeout", 200, id="trickling-body"),
    pytest.param("huge", "body_too_large", 200, id="huge-body"),
]


@pytest.mark.parametrize("mixed", [False, True], ids=["alone", "with-2-healthy"])
@pytest.mark.parametrize(("fault", "error", "status"), FAULTS)
def test_fault_is_recorded_and_the_run_ends_within_its_timeout(
    probe_world: harness.ProbeWorld, fault: str, error: str, status: int | None, mixed: bool
) -> None:
    service = f"{fault}-mixed" if mixed else fault
    result = run_probe(probe_world, service)

    probes = by_address(result)
    faulty = probes.pop(harness.FAULTS[fault])
    assert (faulty["ok"], faulty["error"], faulty["status"]) == (False, error, status)
    assert sorted(probes) == (sorted(harness.HEALTHY[:2]) if mixed else [])
    assert all(probe["ok"] for probe in probes.values())
    assert (result.answered, result.failed) == (2 if mixed else 0, 1)
    assert result.duration_s < TIMEOUT + MARGIN
    if error == "timeout":
        # The shared deadline starts just before the probe thread does.
        assert faulty["latency_ms"] >= 0.9 * TIMEOUT * 1000


def test_huge_body_read_stops_at_the_limit(probe_world: harness.ProbeWorld) -> None:
    result = run_probe(probe_world, "huge", PROBE_MAX_BODY_BYTES="1000")
    (probe,) = result.probes
    assert probe["error"] == "body_too_large"
    assert probe["bytes"] == 1001  # one byte past the limit proves it, no more is read


def test_trickling_body_is_cut_at_the_deadline(probe_world: harness.ProbeWorld) -> None:
    # Every gap is shorter than the timeout: only a deadline over the whole body stops it.
    result = run_probe(probe_world, "trickle")
    (probe,) = result.probes
    assert probe["error"] == "timeout"
    assert 0 < probe["bytes"] < harness.TRICKLE_PIECES * len(b"piece\n")
    assert result.duration_s < TIMEOUT + MARGIN


@pytest.mark.parametrize("service", ["slow", "slow-mixed"])
def test_slow_answer_within_the_timeout_succeeds_with_its_latency(
    probe_world: harness.ProbeWorld, service: str
) -> None:
    result = run_probe(probe_world, service)
    slow = by_address(result)[harness.FAULTS["slow"]]
    assert slow["ok"] and slow["status"] == 200
    assert harness.SLOW_SECONDS * 1000 <= slow["latency_ms"] < TIMEOUT * 1000
    assert result.failed == 0


def test_instances_are_probed_concurrently(probe_world: harness.ProbeWorld) -> None:
    result = run_probe(probe_world, "slow-many")
    assert result.answered == 3
    # In sequence the three answers would take three times as long.
    assert result.duration_s < 2 * harness.SLOW_SECONDS


def test_nothing_healthy_does_not_fail_the_invocation(probe_world: harness.ProbeWorld) -> None:
    result = run_probe(probe_world, "down")
    assert {address: probe["error"] for address, probe in by_address(result).items()} == {
        "127.0.0.5": "http_503",
        "127.0.0.10": "timeout",
        "127.0.0.11": "connection_refused",
    }
    assert result.counts == {"down": (3, 0, 3)}
    assert result.duration_s < TIMEOUT + MARGIN


def test_unknown_name_reports_zero_instances(probe_world: harness.ProbeWorld) -> None:
    result = run_probe(probe_world, "absent")
    (line,) = result.discovery
    assert list(line) == DISCOVERY_KEYS
    assert line["level"] == "WARNING"
    assert line["name"] == f"absent.{harness.NAMESPACE}"
    assert (line["instances"], line["error"]) == (0, "name_not_found")
    assert result.probes == []
    assert result.counts == {"absent": (0, 0, 0)}
    assert result.duration_s < TIMEOUT


def test_resolver_that_never_answers_is_cut_at_the_timeout(
    probe_world: harness.ProbeWorld,
) -> None:
    # That resolv.conf would retry for 10 s; the handler stops waiting at its timeout.
    result = run_probe(probe_world, "healthy", blackhole_dns=True, PROBE_TIMEOUT_SECONDS="0.5")
    (line,) = result.discovery
    assert line["error"] == "dns_timeout"
    assert result.probes == []
    assert result.duration_s < 0.5 + MARGIN


@pytest.mark.parametrize(
    ("path", "ok", "status"),
    [("/private/", False, 403), ("/moved", True, 301)],
    ids=["4xx-fails", "3xx-succeeds"],
)
def test_probe_path_is_requested(
    probe_world: harness.ProbeWorld, path: str, ok: bool, status: int
) -> None:
    result = run_probe(probe_world, "healthy", path=path)
    assert [(probe["ok"], probe["status"]) for probe in result.probes] == [(ok, status)] * 3
    if not ok:
        assert {probe["error"] for probe in result.probes} == {f"http_{status}"}


def test_metric_namespace_comes_from_the_environment(probe_world: harness.ProbeWorld) -> None:
    result = run_probe(probe_world, "healthy", PROBE_METRIC_NAMESPACE="Custom/Probe")
    assert result.emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Custom/Probe"


# Raises, in the reader of one instance's response, an error no branch of the probe expects.
BUG_IN_ONE_READER = """
original = module._receive
def _receive(sock):
    data = yield from original(sock)
    if sock.getpeername()[0] == "127.0.0.3":
        raise LookupError("a bug")
    return data
module._receive = _receive
"""


def test_unexpected_error_costs_only_the_probe(probe_world: harness.ProbeWorld) -> None:
    result = probe_world.run(
        harness.PROBE_SOURCE, probe_world.env("healthy"), patch=BUG_IN_ONE_READER
    )
    assert result.exit_status == 0, result.error
    assert {p["address"]: p["error"] for p in result.probes} == {
        "127.0.0.2": None,
        "127.0.0.3": "unexpected:LookupError",
        "127.0.0.4": None,
    }
    assert result.emf[0]["FailedRequests"] == 1


BAD_CONFIGURATION = [
    ("PROBE_STACK", None),
    ("PROBE_STACK", ""),
    ("PROBE_STACK", "   "),  # EMF dimension values need a character that is not a space
    ("PROBE_STACK", "caf\u00e9"),  # and ASCII
    ("PROBE_SERVICE_NAMES", "web app"),
    ("PROBE_SERVICE_NAMES", "a..b"),  # an empty label
    ("PROBE_SERVICE_NAMES", "x" * 64),  # a label over 63 characters
    ("PROBE_SERVICE_NAMES", "web:0"),
    ("PROBE_SERVICE_NAMES", "web:65536"),
    ("PROBE_SERVICE_NAMES", "web:080"),
    ("PROBE_SERVICE_NAMES", "web:http"),
    ("PROBE_SERVICE_NAMES", "web:\u0668\u0660"),  # Arabic-Indic 80: int() takes it
    ("PROBE_SERVICE_NAMES", "web:8_0"),
    ("PROBE_SERVICE_NAMES", "web:"),
    ("PROBE_SERVICE_NAMES", "web:80:81"),
    ("PROBE_SERVICE_NAMES", "web:8080health"),
    ("PROBE_SERVICE_NAMES", "web/a b"),
    ("PROBE_SERVICE_NAMES", "web/\r\nX-Injected: 1"),
    ("PROBE_SERVICE_NAMES", "web:8080/caf\u00e9"),
    ("PROBE_NAMESPACE", None),
    ("PROBE_NAMESPACE", "caf\u00e9.internal"),
    ("PROBE_NAMESPACE", "a..internal"),
    ("PROBE_NAMESPACE", "x" * 64 + ".internal"),
    ("PROBE_NAMESPACE", ".internal"),
    ("PROBE_METRIC_NAMESPACE", ""),
    ("PROBE_METRIC_NAMESPACE", "n" * 256),
    ("PROBE_TIMEOUT_SECONDS", "inf"),
    ("PROBE_TIMEOUT_SECONDS", "nan"),
    ("PROBE_TIMEOUT_SECONDS", "0"),
    ("PROBE_TIMEOUT_SECONDS", "-1"),
    ("PROBE_TIMEOUT_SECONDS", "2s"),
    ("PROBE_TIMEOUT_SECONDS", "\u0662"),
    ("PROBE_TIMEOUT_SECONDS", "1e1"),
    ("PROBE_MAX_BODY_BYTES", "0"),
    ("PROBE_MAX_BODY_BYTES", "64k"),
    ("PROBE_METRIC_NAMESPACE", "   "),
    ("PROBE_METRIC_NAMESPACE", "Probe\n"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_CONFIGURATION)
def test_bad_configuration_fails_every_invocation_with_one_line_naming_it(
    probe_world: harness.ProbeWorld, variable: str, value: str | None
) -> None:
    # A misconfigured probe is the probe breaking: it shows in the Lambda Errors metric.
    env = probe_world.env("healthy")
    env.pop(variable, None)
    if value is not None:
        env[variable] = value
    result = probe_world.run(harness.PROBE_SOURCE, env, runs=2)
    assert result.exit_status == 1
    # The module imports (no init error, which Lambda would retry); each call raises why,
    # in one line that Lambda logs and counts in Errors.
    messages = [raised(run.get("error")) for run in result.runs]
    assert len(messages) == 2 and messages[0] == messages[1]
    message = messages[0]
    assert message.startswith(f"{variable}=" if value else f"{variable} must be set")
    assert "\n" not in message
    assert result.stderr == ""  # no traceback from the module's import
    assert result.lines == []  # and no metrics


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, "PROBE_SERVICE_NAMES must be set"),
        ("", "PROBE_SERVICE_NAMES must be set"),
        ("healthy,,down", "PROBE_SERVICE_NAMES='healthy,,down' must be DNS names"),
        ("healthy, down", "PROBE_SERVICE_NAMES='healthy, down' must be DNS names"),
        ("healthy,", "PROBE_SERVICE_NAMES='healthy,' must be DNS names"),
    ],
    ids=["unset", "empty", "empty-name", "space", "trailing-comma"],
)
def test_bad_service_names_fail_with_one_line_naming_the_variable(
    probe_world: harness.ProbeWorld, value: str | None, error: str
) -> None:
    env = probe_world.env("healthy")
    if value is None:
        env.pop("PROBE_SERVICE_NAMES")
    else:
        env["PROBE_SERVICE_NAMES"] = value
    result = probe_world.run(harness.PROBE_SOURCE, env)
    assert result.exit_status == 1
    assert raised(result.error).startswith(error)
    assert result.lines == []


def test_every_service_named_is_probed_in_one_run_with_its_own_metrics(
    probe_world: harness.ProbeWorld,
) -> None:
    services = ["healthy", "down", "silent", "absent"]
    env = probe_world.env(",".join(services), PROBE_TIMEOUT_SECONDS=str(TIMEOUT))
    result = probe_world.run(harness.PROBE_SOURCE, env)
    assert result.exit_status == 0, result.error
    assert result.stderr == ""

    # One valid EMF document per service, in the order named, each its own Service.
    docs = [validate_emf(line) for line in result.stdout_lines[-len(services) :]]
    assert len(result.emf) == len(services)
    assert [doc["Service"] for doc in docs] == services
    for doc in docs:
        assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stack", "Service"]]
    by_service = {doc["Service"]: doc for doc in docs}
    assert [by_service["healthy"][name] for name in COUNT_METRICS] == [3, 3, 0]
    assert [by_service["down"][name] for name in COUNT_METRICS] == [3, 0, 3]
    assert [by_service["silent"][name] for name in COUNT_METRICS] == [1, 0, 1]
    assert [by_service["absent"][name] for name in COUNT_METRICS] == [0, 0, 0]
    assert "Latency" not in by_service["down"]

    probed = {(p["service"], p["address"]): p["ok"] for p in result.probes}
    assert probed == {
        **{("healthy", address): True for address in harness.HEALTHY},
        ("down", "127.0.0.5"): False,
        ("down", "127.0.0.10"): False,
        ("down", "127.0.0.11"): False,
        ("silent", "127.0.0.10"): False,
    }
    (missing,) = result.discovery
    assert (missing["service"], missing["error"]) == ("absent", "name_not_found")
    assert list(result.counts.items()) == [
        ("healthy", (3, 3, 0)),
        ("down", (3, 0, 3)),
        ("silent", (1, 0, 1)),
        ("absent", (0, 0, 0)),
    ]
    # Lookups and requests of all services run at once: "down" and "silent" both hold an
    # instance that never answers, yet the run ends at one request timeout, not two.
    assert result.duration_s < TIMEOUT + MARGIN


def test_configuration_is_read_once_at_cold_start(probe_world: harness.ProbeWorld) -> None:
    fix_after_import = "import os; os.environ['PROBE_SERVICE_NAMES'] = 'healthy'"
    env = probe_world.env("healthy", PROBE_SERVICE_NAMES="healthy:65536")
    result = probe_world.run(harness.PROBE_SOURCE, env, patch=fix_after_import)
    assert raised(result.error) == "PROBE_SERVICE_NAMES='healthy:65536' must have ports 1-65535"


def test_a_service_named_twice_is_probed_once(probe_world: harness.ProbeWorld) -> None:
    port = probe_world.port
    names = f"healthy:{port}/private/,healthy:{port}"
    result = run_probe(probe_world, "healthy", PROBE_SERVICE_NAMES=names)
    # Once, on the port and path named last: / answers 200, /private/ 403.
    assert [probe["status"] for probe in result.probes] == [200] * 3


def test_source_imports_only_the_standard_library() -> None:
    tree = ast.parse(harness.PROBE_SOURCE.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported
    assert imported <= sys.stdlib_module_names


# The example document of the EMF specification.
VALID_EMF: dict[str, Any] = {
    "_aws": {
        "Timestamp": 1574109732004,
        "CloudWatchMetrics": [
            {
                "Namespace": "lambda-function-metrics",
                "Dimensions": [["functionVersion"]],
                "Metrics": [{"Name": "time", "Unit": "Milliseconds"}],
            }
        ],
    },
    "functionVersion": "$LATEST",
    "time": 100,
    "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee",
}


def _directive(doc: dict[str, Any]) -> dict[str, Any]:
    directive: dict[str, Any] = doc["_aws"]["CloudWatchMetrics"][0]
    return directive


BREAKAGES: dict[str, Callable[[dict[str, Any]], object]] = {
    "no _aws": lambda d: d.pop("_aws"),
    "float timestamp": lambda d: d["_aws"].update(Timestamp=1.5),
    "string timestamp": lambda d: d["_aws"].update(Timestamp="1574109732004"),
    "no timestamp": lambda d: d["_aws"].pop("Timestamp"),
    "directives not array": lambda d: d["_aws"].update(CloudWatchMetrics={}),
    "empty namespace": lambda d: _directive(d).update(Namespace=""),
    "long namespace": lambda d: _directive(d).update(Namespace="n" * 256),
    "no dimensions": lambda d: _directive(d).update(Dimensions=[]),
    "flat dimensions": lambda d: _directive(d).update(Dimensions=["functionVersion"]),
    "dimension not at root": lambda d: d.pop("functionVersion"),
    "dimension not string": lambda d: d.update(functionVersion=1),
    "31 dimensions": lambda d: _directive(d).update(Dimensions=[["functionVersion"] * 31]),
    "101 metrics": lambda d: _directive(d).update(Metrics=[{"Name": "time"}] * 101),
    "metric without name": lambda d: _directive(d).update(Metrics=[{"Unit": "Count"}]),
    "unknown unit": lambda d: _directive(d)["Metrics"][0].update(Unit="Millis"),
    "metric not at root": lambda d: d.pop("time"),
    "metric is string": lambda d: d.update(time="100"),
    "metric is boolean": lambda d: d.update(time=True),
    "101 values": lambda d: d.update(time=[1] * 101),
    "empty values": lambda d: d.update(time=[]),
    "extra directive member": lambda d: _directive(d).update(Unit="Count"),
}


def test_emf_validator_accepts_the_specification_example() -> None:
    assert validate_emf(json.dumps(VALID_EMF)) == VALID_EMF


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_emf_validator_rejects_a_broken_document(breakage: str) -> None:
    document = copy.deepcopy(VALID_EMF)
    BREAKAGES[breakage](document)
    with pytest.raises(EmfError):
        validate_emf(json.dumps(document))


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        json.dumps(VALID_EMF) + " trailing",
        json.dumps(VALID_EMF).replace("100", "NaN"),
        "[1, 2]",
    ],
    ids=["not-json", "trailing-data", "nan", "not-object"],
)
def test_emf_validator_rejects_a_line_that_is_no_json_object(line: str) -> None:
    with pytest.raises(EmfError):
        validate_emf(line)
