"""Whether a deployed stack works: each service's URL answers, the probe finds healthy
tasks, the services run what they should, and no alarm is raised.

Each check returns what it saw and, when it failed, where to look next.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..template import ids
from .aws import Make, stack_resources

__all__ = ["Check", "fetch_status", "probe_checks", "verify", "verify_until"]

ALARM_TYPE = "AWS::CloudWatch::Alarm"
SERVICE_TYPE = "AWS::ECS::Service"
HEALTHY_STACK = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
_ALARMS_PER_CALL = 100  # DescribeAlarms' limit on AlarmNames


@dataclass(frozen=True)
class Check:
    """One check of a deployed stack: its name, whether it passed, and what it saw."""

    name: str
    ok: bool
    detail: str
    where: str = ""
    """Where to look when it failed: a command or a console place."""


URL_SCHEMES = ("http", "https")
"""What verify requests: never a ``file:``, ``data:`` or ``ftp:`` URL an Output names."""


class _HttpRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects followed only to http: and https: URLs."""

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location:
            target = urllib.parse.urljoin(req.full_url, location)
            scheme = urllib.parse.urlsplit(target).scheme.lower()
            if scheme not in URL_SCHEMES:
                fp.close()
                raise ValueError(f"redirected to a {scheme}: URL, not requested")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _opener() -> urllib.request.OpenerDirector:
    """urllib's opener with the http: and https: handlers only (no file:, data:, ftp:)."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        _HttpRedirects(),
    ):
        opener.add_handler(handler)
    return opener


def fetch_status(url: str, timeout: float) -> int:
    """The HTTP status of a GET, following redirects; a network error raises OSError, a
    URL (or a redirect) that is not http: or https: ValueError."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in URL_SCHEMES:
        raise ValueError(f"scheme {scheme or 'none'}: not requested")
    request = urllib.request.Request(url, headers={"User-Agent": "infra-gen-verify"})
    try:
        with _opener().open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def _urls(values: dict[str, str]) -> list[tuple[str, str, str]]:
    """(check name, Output, URL) of each ``*ServiceUrl`` Output: ``service URL`` for the
    first service's, then ``service URL <scope>`` for each service Stack.add_service added."""
    scopes = sorted(
        k.removesuffix(ids.Outputs.SERVICE_URL)
        for k in values
        if k.endswith(ids.Outputs.SERVICE_URL)
    )
    return [
        (
            f"service URL {scope}" if scope else "service URL",
            scope + ids.Outputs.SERVICE_URL,
            values[scope + ids.Outputs.SERVICE_URL],
        )
        for scope in scopes
    ]


def _url(
    url: str,
    fetch: Callable[[str, float], int],
    timeout: float,
    name: str = "service URL",
    output: str = ids.Outputs.SERVICE_URL,
) -> Check:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in URL_SCHEMES:  # e.g. file:, which would read a local file
        return Check(
            name,
            False,
            f"Output {output} {url}: scheme {scheme or 'none'}: not requested; allowed: "
            f"{', '.join(URL_SCHEMES)}",
            "the stack's Outputs",
        )
    try:
        status = fetch(url, timeout)
    except OSError as e:
        reason = getattr(e, "reason", None) or e
        return Check(
            name, False, f"{url}: {reason}", "the load balancer's security group and listener"
        )
    except ValueError as e:  # a composing stack's Output named so, that is no URL
        return Check(name, False, f"{url}: {e}", "the stack's Outputs")
    ok = 200 <= status < 400
    where = "" if ok else "target group health in the EC2 console (Target groups)"
    return Check(name, ok, f"{url} answered HTTP {status}", where)


def _probe(lam: Any, function: str, log_group: str) -> list[Check]:
    where = f"aws logs tail {log_group} --since 10m"
    answer = lam.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=b"{}")
    payload = answer["Payload"].read().decode("utf-8", "replace")
    if answer.get("FunctionError"):
        try:
            message = json.loads(payload).get("errorMessage", payload)
        except (ValueError, AttributeError):
            message = payload
        return [Check("probe", False, f"{function} failed: {message}", where)]
    return probe_checks(payload, function, where)


def probe_checks(payload: str, function: str, where: str = "") -> list[Check]:
    """The probe's answer (one entry per service, with its metrics' counts) as checks.

    Args:
        payload: the function's answer, JSON. Default: required.
        function: the function's name, for the details. Default: required.
        where: where to look when a check fails. Default: empty.

    Returns:
        One check named ``probe``, or ``probe <service>`` each when it probes several; a
        service passes when the probe found tasks and none failed.
    """
    try:
        entries = json.loads(payload)
        counts = [
            (
                e["Service"],
                int(e["DiscoveredInstances"]),
                int(e["SuccessfulRequests"]),
                int(e["FailedRequests"]),
            )
            for e in entries
        ]
    except (ValueError, TypeError, KeyError):
        return [Check("probe", False, f"{function} answered {payload[:200]!r}", where)]
    checks = []
    for service, found, good, failed in counts:
        ok = found > 0 and failed == 0
        name = "probe" if len(counts) == 1 else f"probe {service}"
        detail = f"{function}: {found} tasks found, {good} answered, {failed} failed"
        checks.append(Check(name, ok, detail, "" if ok else where))
    return checks or [Check("probe", False, f"{function} probes no service", where)]


def _tasks(ecs: Any, cluster: str, service: str, name: str = "tasks") -> Check:
    where = f"aws ecs describe-services --cluster {cluster} --services {service}"
    found = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if not found:
        return Check(name, False, f"service {service} not found in {cluster}", where)
    s = found[0]
    desired, running, pending = s["desiredCount"], s["runningCount"], s["pendingCount"]
    ok = running >= desired > 0
    detail = f"{running} running of {desired} desired ({pending} pending)"
    # A canary or linear release keeps the old revision's deployment beside the new one
    # through its traffic shifts and bake: not done until only one is left.
    deployments = s.get("deployments", [])
    if len(deployments) > 1:
        ok = False
        detail += f"; {len(deployments)} deployments: a release is shifting traffic or baking"
    return Check(name, ok, detail, "" if ok else where + " (see events)")


def _alarms(cloudwatch: Any, names: Sequence[str]) -> Check:
    raised = []
    for i in range(0, len(names), _ALARMS_PER_CALL):
        chunk = list(names[i : i + _ALARMS_PER_CALL])
        # DescribeAlarms answers at most MaxRecords (default 50) per page, also when the
        # names are given: every page is read.
        kwargs: dict[str, Any] = {"AlarmNames": chunk, "AlarmTypes": ["MetricAlarm"]}
        while True:
            answer = cloudwatch.describe_alarms(**kwargs)
            raised += [a for a in answer["MetricAlarms"] if a["StateValue"] != "OK"]
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
    if not raised:
        return Check("alarms", True, f"{len(names)} alarms OK")
    lines = [
        f"{a['AlarmName']} {a['StateValue']}: {a.get('StateReason', '')}"
        for a in sorted(raised, key=lambda a: a["AlarmName"])
    ]
    detail = "\n".join([f"{len(raised)} of {len(names)} not OK", *lines])
    return Check("alarms", False, detail, "the CloudWatch console, Alarms")


def verify(
    stack_name: str,
    clients: Make,
    *,
    fetch: Callable[[str, float], int] = fetch_status,
    timeout: float = 10.0,
) -> list[Check]:
    """Every check of the stack, in the order a person would look.

    Args:
        stack_name: the deployed stack. Default: required.
        clients: service name -> boto3 client. Default: required.
        fetch: GETs a URL with a timeout; its HTTP status. Default: :func:`fetch_status`.
        timeout: seconds for each request to a service URL. Default: 10.

    Returns:
        The checks: stack, outputs, each service URL, probe, tasks, alarms.
    """
    cfn = clients("cloudformation")
    (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    status = stack["StackStatus"]
    events = f"aws cloudformation describe-stack-events --stack-name {stack_name}"
    checks = [
        Check("stack", status in HEALTHY_STACK, status, "" if status in HEALTHY_STACK else events)
    ]
    values = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    needed = (ids.Outputs.SERVICE_URL, ids.Outputs.CLUSTER_NAME, ids.Outputs.SERVICE_NAME)
    missing = [k for k in needed if k not in values]
    if missing:
        checks.append(Check("outputs", False, f"missing {', '.join(missing)}", events))
        return checks
    resources = stack_resources(cfn, stack_name)
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources}
    # A composed stack has a URL per service (its path on the load balancer): each checked.
    checks += [_url(url, fetch, timeout, name, output) for name, output, url in _urls(values)]
    if physical.get(ids.Probe.FUNCTION):
        log_group = (
            physical.get(ids.Probe.LOG_GROUP) or f"/aws/lambda/{physical[ids.Probe.FUNCTION]}"
        )
        checks += _probe(clients("lambda"), physical[ids.Probe.FUNCTION], log_group)
    else:
        checks.append(Check("probe", False, f"no {ids.Probe.FUNCTION} in the stack", events))
    # A composed stack (Stack.add_service) runs several ECS services: a check for each.
    services = sorted(
        (r["LogicalResourceId"], r["PhysicalResourceId"])
        for r in resources
        if r["ResourceType"] == SERVICE_TYPE and r.get("PhysicalResourceId")
    )
    cluster = values[ids.Outputs.CLUSTER_NAME]
    if len(services) > 1:
        checks += [
            _tasks(clients("ecs"), cluster, arn, f"tasks {logical_id}")
            for logical_id, arn in services
        ]
    else:
        checks.append(_tasks(clients("ecs"), cluster, values[ids.Outputs.SERVICE_NAME]))
    alarm_names = sorted(
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == ALARM_TYPE and r.get("PhysicalResourceId")
    )
    checks.append(_alarms(clients("cloudwatch"), alarm_names))
    return checks


def verify_until(
    run: Callable[[], list[Check]],
    wait: float,
    *,
    interval: float = 10.0,
    on_attempt: Callable[[list[Check], float], None] = lambda checks, left: None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[Check]:
    """``run`` again until every check passes or ``wait`` seconds are up; the last answer.

    Args:
        run: one round of checks. Default: required.
        wait: seconds to keep trying; 0 runs once. Default: required.
        interval: seconds between attempts. Default: 10.
        on_attempt: hears each failed attempt with the seconds left. Default: nothing.
        sleep, clock: time, replaceable under test. Default: the real ones.

    Returns:
        The last attempt's checks; it starts at the deadline at the latest.
    """
    deadline = clock() + wait
    while True:
        checks = run()
        left = deadline - clock()
        if all(c.ok for c in checks) or left <= 0:
            return checks
        on_attempt(checks, left)
        (sleep or time.sleep)(min(interval, left))
