"""Every script in examples/ runs, and what it prints is a deployable template: cfn-lint
clean, checkov clean (only the template's own justified skips), within the size limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack import lint_findings

from infra_gen import build_stack, render
from infra_gen.config import ConfigError
from infra_gen.render import INLINE_TEMPLATE_LIMIT

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


class _Loader(yaml.SafeLoader):
    pass


# CloudFormation's short forms (!Ref, !GetAtt 'A.B', ...) as the long forms.
def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    else:
        value = loader.construct_sequence(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_form)


@pytest.fixture(scope="module", params=[p.name for p in EXAMPLES])
def printed(request: pytest.FixtureRequest) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES[0].parent / request.param)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_there_are_examples() -> None:
    assert [p.name for p in EXAMPLES] == ["second_service.py"]


def test_example_is_lint_clean_and_fits(printed: str) -> None:
    assert lint_findings(printed) == []
    assert len(printed.encode()) <= INLINE_TEMPLATE_LIMIT


def test_example_passes_checkov(printed: str, tmp_path: Path) -> None:
    checkov = os.environ.get("CHECKOV_BIN", "")
    if not checkov:
        pytest.fail("CHECKOV_BIN is not set: run the suite through tox", pytrace=False)
    name = "stack.json" if printed.startswith("{") else "stack.yaml"
    (tmp_path / name).write_text(printed, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "BC_"))}
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        [checkov, "-f", name, "--framework", "cloudformation", "-o", "json",
         "--skip-download"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    report = json.loads(done.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []


def _second() -> dict[str, Any]:
    stack = build_stack()
    stack.add_service(
        "Api", {"name": "api", "image": "public.ecr.aws/docker/library/httpd:alpine"},
        path_pattern="/api/*", priority=10,
        writable_paths={"httpd-logs": "/usr/local/apache2/logs"},
    )  # fmt: skip
    loaded: dict[str, Any] = yaml.load(render(stack.template, "yaml"), Loader=_Loader)
    return loaded


def test_second_service_is_routed_by_path_on_the_forwarding_listener() -> None:
    r = _second()["Resources"]
    rule = r["ApiLoadBalancerRule"]["Properties"]
    # The HTTPS listener with a certificate (the HTTP one then only redirects), else HTTP.
    assert rule["ListenerArn"] == {"Fn::If": [
        "HasCertificate", {"Ref": "LoadBalancerHttpsListener"}, {"Ref": "LoadBalancerHttpListener"}
    ]}  # fmt: skip
    assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api/*"]
    assert rule["Actions"] == [{"TargetGroupArn": {"Ref": "ApiLoadBalancerTargetGroup"},
                                "Type": "forward"}]  # fmt: skip
    service = r["ApiEcsService"]
    assert service["DependsOn"] == ["ApiLoadBalancerRule"]
    props = service["Properties"]
    assert props["Cluster"] == {"Ref": "EcsCluster"}
    assert props["LoadBalancers"][0]["TargetGroupArn"] == {"Ref": "ApiLoadBalancerTargetGroup"}
    assert props["ServiceRegistries"][0]["RegistryArn"] == {
        "Fn::GetAtt": ["ApiDiscoveryService", "Arn"]
    }
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"] == [
        {"Ref": "ApiEcsServiceSecurityGroup"}
    ]
    assert r["ApiDiscoveryService"]["Properties"]["NamespaceId"] == {"Ref": "DiscoveryNamespace"}


def test_second_service_is_reached_by_the_load_balancer_and_the_probe_only() -> None:
    r = _second()["Resources"]
    sources = sorted(
        v["Properties"]["SourceSecurityGroupId"]["Ref"] for v in r.values()
        if v["Type"] == "AWS::EC2::SecurityGroupIngress"
        and v["Properties"]["GroupId"] == {"Ref": "ApiEcsServiceSecurityGroup"}
    )  # fmt: skip
    assert sources == ["LoadBalancerSecurityGroup", "ProbeSecurityGroup"]


def test_the_probe_checks_both_services_and_alarms_watch_the_second() -> None:
    r = _second()["Resources"]
    env = r["ProbeFunction"]["Properties"]["Environment"]["Variables"]
    assert "PROBE_SERVICE_NAME" not in env
    assert env["PROBE_SERVICE_NAMES"] == {"Fn::Join": [",", [
        {"Fn::GetAtt": ["DiscoveryService", "Name"]},
        {"Fn::GetAtt": ["ApiDiscoveryService", "Name"]},
    ]]}  # fmt: skip
    for alarm in ("ApiAlarmProbeFailedRequests", "ApiAlarmProbeNoInstances"):
        props = r[alarm]["Properties"]
        assert {"Name": "Service", "Value": {"Fn::GetAtt": ["ApiDiscoveryService", "Name"]}} in (
            props["Dimensions"]
        )
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    logs = r["EcsTaskExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert logs["Statement"][0]["Resource"] == [
        {"Fn::GetAtt": ["EcsServiceLogGroup", "Arn"]},
        {"Fn::GetAtt": ["ApiEcsServiceLogGroup", "Arn"]},
    ]


@pytest.mark.parametrize(
    ("scope", "service", "path", "priority", "key"),
    [
        ("api", {"name": "api"}, "/api/*", 10, "scope"),
        ("Api", {"name": "nginx"}, "/api/*", 10, "service.name"),
        ("Api", {"name": "api", "container_port": 8080}, "/api/*", 10, "service.container_port"),
        ("Api", {"name": "api"}, "/api/*", 0, "priority"),
        ("Api", {"name": "api"}, "api", 10, "path_pattern"),
    ],
)
def test_bad_second_service_is_refused_naming_the_key(
    scope: str, service: dict[str, Any], path: str, priority: int, key: str
) -> None:
    stack = build_stack()
    before = len(stack.template.resources)
    with pytest.raises(ConfigError) as raised:
        stack.add_service(scope, service, path_pattern=path, priority=priority)
    assert str(raised.value).startswith(key)
    assert len(stack.template.resources) == before  # nothing half-added


def test_a_second_service_changes_of_the_default_only_what_it_extends() -> None:
    default = yaml.load(render(build_stack().template, "yaml"), Loader=_Loader)
    second = _second()
    changed = sorted(
        k for k, v in default["Resources"].items() if second["Resources"][k] != v
    )  # fmt: skip
    # The probe's service list and the shared execution role's log groups; nothing else.
    assert changed == ["EcsTaskExecutionRole", "ProbeFunction"]
    for section in ("Resources", "Outputs"):
        added = set(second[section]) - set(default[section])
        assert added and all(k.startswith("Api") for k in added)
    assert {k: second["Outputs"][k] for k in default["Outputs"]} == default["Outputs"]
    assert second["Parameters"] == default["Parameters"]
