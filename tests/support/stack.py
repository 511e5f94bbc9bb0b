"""Helpers for template tests: build, parse, select, lint."""

from __future__ import annotations

import functools
import json
from typing import Any

from cfnlint.api import ManualArgs, lint

from infra_gen import Config, build_template, render

# Regions the lint covers: the default one plus two with a different feature set.
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def template(cfg: Config | None = None, *, fresh: bool = False) -> dict[str, Any]:
    """The template of ``cfg`` as data, a copy of its own for each caller.

    Each configuration's template, which tests only read, is built once per test run
    (keyed by the configuration's digest); ``fresh=True`` builds it anew, for a test that
    compares equal configurations as built.
    """
    cfg = cfg or Config()
    if fresh:
        return json.loads(render(build_template(cfg), "json"))
    digest = cfg.digest()
    if digest not in _BUILT:
        _BUILT[digest] = render(build_template(cfg), "json")
    return json.loads(_BUILT[digest])


# The compact JSON of each configuration built in this test run, by its digest.
_BUILT: dict[str, str] = {}


def of_type(t: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == resource_type}


def props(t: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return t["Resources"][logical_id].get("Properties", {})


def lint_findings(text: str) -> list[str]:
    """Every cfn-lint error and warning (the CLI's default rule set) for ``text``.

    cfn-lint runs once per distinct text in a test run: tests that build the same template
    share its findings.
    """
    return list(_findings(text))


@functools.cache
def _findings(text: str) -> tuple[str, ...]:
    return tuple(str(m) for m in lint(text, config=ManualArgs(regions=LINT_REGIONS)))


def refs(value: Any) -> set[str]:
    """Logical IDs a value refers to through Ref / Fn::GetAtt / ${...} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


# The governed profile as a user sets it up: AZ IDs, a private image pinned by digest, a
# non-root user and an unprivileged port (nginx-unprivileged listens on 8080 as uid 101).
GOVERNED = {
    "governed": True,
    "network": {"availability_zone_ids": ["use1-az1", "use1-az2"]},
    "service": {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/nginx-unprivileged@sha256:"
        + "0" * 64,
        "user": "101",
        "container_port": 8080,
    },
}
# The largest stack of one service: every option that adds resources.
LARGEST = {
    "network": {"az_count": 3},
    "security": {"flow_logs": True, "kms_logs": True, "alb_access_logs": True},
    # The slowest heartbeat: ProbeSchedule then allows every schedule, each alarm
    # period with its own condition.
    "alarms": {"email": "on-call@example.com", "probe_missing_minutes": 60},
}

# A domain of the service: a name in a Route 53 public hosted zone (the stack's own
# certificate, validated in DNS, and the alias record).
DOMAIN = {"domain": {"name": "www.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ"}}
# The governed profile with a domain: the certificate is the stack's own.
GOVERNED_DOMAIN = {**GOVERNED, **DOMAIN}

# A certificate ARN of the form ACM issues, for deploy-time Parameters.
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

# Bad [domain] values: (key, value, the other [domain] keys, what the one error line says
# after "domain.<key>: "). The other keys are valid, so the line names the bad one.
_ZONE = DOMAIN["domain"]["hosted_zone_id"]
BAD_DOMAIN: list[tuple[str, object, dict[str, str], str]] = [
    ("name", "WWW.example.com", {"hosted_zone_id": _ZONE}, "'WWW.example.com' is not a DNS"),
    ("name", "www.example.com.", {"hosted_zone_id": _ZONE}, "without the trailing dot"),
    ("name", "*.example.com", {"hosted_zone_id": _ZONE}, "a wildcard names no one host"),
    ("name", "localhost", {"hosted_zone_id": _ZONE}, "two or more lower-case labels"),
    ("name", "www..example.com", {"hosted_zone_id": _ZONE}, "two or more lower-case labels"),
    ("name", "-www.example.com", {"hosted_zone_id": _ZONE}, "two or more lower-case labels"),
    ("name", "www_1.example.com", {"hosted_zone_id": _ZONE}, "two or more lower-case labels"),
    ("name", "https://example.com", {"hosted_zone_id": _ZONE}, "two or more lower-case labels"),
    ("name", "10.0.0.1", {"hosted_zone_id": _ZONE}, "its last label is a number"),
    ("name", "bücher.example", {"hosted_zone_id": _ZONE}, "IDNA form (xn--...)"),
    ("name", "www.example.com\n", {"hosted_zone_id": _ZONE}, "contains the control character"),
    ("name", "a" * 64 + ".example.com", {"hosted_zone_id": _ZONE}, "two or more lower-case"),
    ("name", "a" * 60 + ".example.com", {"hosted_zone_id": _ZONE}, "has 72 characters; ACM"),
    (
        "name",
        ".".join(["a" * 63] * 4),
        {"hosted_zone_id": _ZONE, "certificate_arn": CERTIFICATE},
        "it has 255 characters; allowed at most 253",
    ),
    ("name", 42, {"hosted_zone_id": _ZONE}, "expected a string, got 42"),
    ("hosted_zone_id", "z0123ABC", {"name": "www.example.com"}, "is not a Route 53 hosted zone"),
    ("hosted_zone_id", "/hostedzone/Z0123ABC", {"name": "www.example.com"}, "without /hostedzone/"),
    ("hosted_zone_id", "Z", {"name": "www.example.com"}, "is not a Route 53 hosted zone ID"),
    ("hosted_zone_id", "Z" + "A" * 32, {"name": "www.example.com"}, "is not a Route 53 hosted"),
    ("hosted_zone_id", "ABC0123", {"name": "www.example.com"}, "is not a Route 53 hosted zone"),
    ("hosted_zone_id", "Z01 23", {"name": "www.example.com"}, "is not a Route 53 hosted zone"),
    ("hosted_zone_id", "", {"name": "www.example.com"}, "is empty while domain.name is"),
    ("hosted_zone_id", _ZONE, {}, "is given while domain.name is empty"),
    ("hosted_zone_id", 7, {"name": "www.example.com"}, "expected a string, got 7"),
    (
        "certificate_arn",
        "arn:aws:iam::123456789012:server-certificate/web",
        DOMAIN["domain"],
        "is not an ACM certificate ARN",
    ),
    (
        "certificate_arn",
        "arn:aws:acm:us-east-1:12345:certificate/x",
        DOMAIN["domain"],
        "is not an ACM certificate ARN",
    ),
    ("certificate_arn", CERTIFICATE, {}, "is given while domain.name is empty; give the name"),
]


def hook_view(t: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The resources as a CloudFormation hook sees them: Parameters (defaults, then
    ``parameters``) substituted, Conditions evaluated, resources whose Condition is false
    dropped, Fn::If and AWS::NoValue resolved. Other functions stay as they are."""
    values = {k: str(v["Default"]) for k, v in t["Parameters"].items() if "Default" in v}
    values.update(parameters or {})
    conditions: dict[str, bool] = {}

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(resolve(t["Conditions"][name]))
        return conditions[name]

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in map(resolve, value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"} and value["Ref"] in t["Parameters"]:
            return values[value["Ref"]]
        if set(value) == {"Ref"} and value["Ref"] == "AWS::NoValue":
            return _NO_VALUE
        if set(value) == {"Fn::If"}:
            name, yes, no = value["Fn::If"]
            return resolve(yes if condition(name) else no)
        if set(value) == {"Fn::Equals"}:
            a, b = map(resolve, value["Fn::Equals"])
            return a == b
        if set(value) == {"Fn::Not"}:
            return not resolve(value["Fn::Not"][0])
        if set(value) == {"Fn::Or"}:
            return any(map(resolve, value["Fn::Or"]))
        if set(value) == {"Condition"}:
            return condition(value["Condition"])
        return {k: v for k, v in ((k, resolve(v)) for k, v in value.items()) if v is not _NO_VALUE}

    return {
        logical_id: resolve(resource)
        for logical_id, resource in t["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }


_NO_VALUE = object()


def full_service(stack: Any, n: int) -> None:
    """A fully alarmed, scaled service: the first service's alarms and scaling (README's
    "fully alarmed service", ``Stack.add_service(..., scaling={}, all_alarms=True)``)."""
    stack.add_service(
        f"Svc{n}",
        {"name": f"svc{n}", "image": "traefik/whoami:v1.10", "desired_count": 1},
        path_pattern=f"/svc{n}/*",
        priority=n,
        scaling={},
        all_alarms=True,
    )
