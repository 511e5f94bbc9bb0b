"""``infra-gen verify`` through botocore's Stubber.

The emulator cannot run the probe (a synchronous Lambda invoke needs containers), so
every AWS answer here is stubbed; the Stubber checks each request's parameters against
the AWS API model and against the exact values expected, and each answer against the
model's output shape. The service URL is requested for real, from a local HTTP server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.verify import (
    ALARMS,
    CLUSTER,
    FUNCTION,
    HEALTHY,
    LOG_GROUP,
    SERVICE,
    STACK,
    run,
    stubbed,
)


def test_healthy_stack(site: dict[str, Any]) -> None:
    site["status"] = 200
    url = f"http://127.0.0.1:{site['port']}"
    code, out = run(stubbed(url, probe=HEALTHY))
    assert code == 0
    assert out.splitlines() == [
        "ok   stack        CREATE_COMPLETE",
        f"ok   service URL  {url} answered HTTP 200",
        f"ok   probe        {FUNCTION}: 2 tasks found, 2 answered, 0 failed",
        "ok   tasks        2 running of 2 desired (0 pending)",
        "ok   alarms       2 alarms OK",
        f"Stack {STACK}: healthy",
    ]


def test_every_failure_says_what_and_where(site: dict[str, Any]) -> None:
    site["status"] = 503
    url = f"http://127.0.0.1:{site['port']}"
    stubs = stubbed(url, function_error="'PROBE_STACK'", running=1, alarm_states=("OK", "ALARM"))
    code, out = run(stubs)
    assert code == 1
    lines = out.splitlines()
    assert lines[1:] == [
        f"FAIL service URL  {url} answered HTTP 503",
        "                  look at: target group health in the EC2 console (Target groups)",
        f"FAIL probe        {FUNCTION} failed: 'PROBE_STACK'",
        f"                  look at: aws logs tail {LOG_GROUP} --since 10m",
        "FAIL tasks        1 running of 2 desired (1 pending)",
        f"                  look at: aws ecs describe-services --cluster {CLUSTER} "
        f"--services {SERVICE} (see events)",
        "FAIL alarms       1 of 2 not OK",
        f"                  {ALARMS[1]} ALARM: Threshold crossed: {ALARMS[1]}",
        "                  look at: the CloudWatch console, Alarms",
        f"Stack {STACK}: NOT healthy (service URL, probe, tasks, alarms)",
    ]


def test_probe_finding_no_task_is_unhealthy(site: dict[str, Any]) -> None:
    site["status"] = 200
    url = f"http://127.0.0.1:{site['port']}"
    code, out = run(
        stubbed(url, probe=[{**HEALTHY[0], "DiscoveredInstances": 0, "SuccessfulRequests": 0}])
    )
    assert code == 1
    assert f"FAIL probe        {FUNCTION}: 0 tasks found, 0 answered, 0 failed" in out


def test_unreachable_url_and_rolled_back_stack() -> None:
    # A port nothing listens on: the connection is refused.
    url = "http://127.0.0.1:9"
    code, out = run(stubbed(url, probe=HEALTHY, status="UPDATE_ROLLBACK_COMPLETE"))
    assert code == 1
    assert out.splitlines()[:4] == [
        "FAIL stack        UPDATE_ROLLBACK_COMPLETE",
        f"                  look at: aws cloudformation describe-stack-events --stack-name {STACK}",
        f"FAIL service URL  {url}: [Errno 111] Connection refused",
        "                  look at: the load balancer's security group and listener",
    ]


def test_probe_answer_is_what_verify_reads(probe_world: Any) -> None:
    """The probe's real return value, from the handler run against nginx, read by verify."""
    from infra_gen.deploy.verify import probe_checks
    from tests.support import harness

    one = probe_world.run(harness.PROBE_SOURCE, probe_world.env("healthy"))
    (check,) = probe_checks(json.dumps(one.return_value), "fn")
    assert (check.name, check.ok, check.detail) == (
        "probe",
        True,
        "fn: 3 tasks found, 3 answered, 0 failed",
    )
    several = probe_world.run(harness.PROBE_SOURCE, probe_world.env("healthy,down,absent"))
    checks = probe_checks(json.dumps(several.return_value), "fn", "logs")
    assert [(c.name, c.ok, c.where) for c in checks] == [
        ("probe healthy", True, ""),
        ("probe down", False, "logs"),
        ("probe absent", False, "logs"),
    ]
    assert checks[1].detail == "fn: 3 tasks found, 0 answered, 3 failed"


@pytest.mark.parametrize("payload", ['{"service": "nginx"}', "null", "[{}]", "not json"])
def test_an_answer_of_another_shape_is_a_failed_check(payload: str) -> None:
    from infra_gen.deploy.verify import probe_checks

    (check,) = probe_checks(payload, "fn", "logs")
    assert (check.name, check.ok, check.where) == ("probe", False, "logs")


def test_each_service_of_a_composed_stack_has_its_tasks_check(site: dict[str, Any]) -> None:
    url = f"http://127.0.0.1:{site['port']}"
    arn = f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}"
    services = [("ApiEcsService", f"{arn}/api", 1), ("EcsService", f"{arn}/web", 2)]
    code, out = run(stubbed(url, probe=HEALTHY, services=services))
    assert code == 1
    lines = out.splitlines()
    assert [line.split()[:3] for line in lines if line.split()[1:2] == ["tasks"]] == [
        ["FAIL", "tasks", "ApiEcsService"],
        ["ok", "tasks", "EcsService"],
    ]
    assert lines[-1] == f"Stack {STACK}: NOT healthy (tasks ApiEcsService)"


def test_each_service_url_of_a_composed_stack_is_requested(site: dict[str, Any]) -> None:
    site["status"] = 200
    base = f"http://127.0.0.1:{site['port']}"
    # An added service's URL is its path on the load balancer (Stack.add_service); an
    # Output not named *ServiceUrl is not requested, one so named that is no URL fails.
    site["paths"] = {"/api/": 503}
    outputs = {
        "ApiServiceUrl": f"{base}/api/",
        "WebServiceUrl": f"{base}/web/",
        "LoadBalancerDnsName": "127.0.0.1",
        "OldServiceUrl": "none",
    }
    try:
        code, out = run(stubbed(base, probe=HEALTHY, outputs=outputs))
    finally:
        site["paths"] = {}
    assert code == 1
    lines = out.splitlines()
    assert lines[1:7] == [
        f"ok   service URL      {base} answered HTTP 200",
        f"FAIL service URL Api  {base}/api/ answered HTTP 503",
        "                      look at: target group health in the EC2 console (Target groups)",
        "FAIL service URL Old  Output OldServiceUrl none: scheme none: not requested; "
        "allowed: http, https",
        "                      look at: the stack's Outputs",
        f"ok   service URL Web  {base}/web/ answered HTTP 200",
    ]
    assert lines[-1] == f"Stack {STACK}: NOT healthy (service URL Api, service URL Old)"
