"""Every script in examples/ runs, and what it prints is a deployable template: cfn-lint
clean, checkov clean (only the template's own justified skips), within the size limit;
each builds what its docstring says, in about as many lines as its AWS CDK equivalent
in examples/cdk/, and its docstring gives both counts as measured."""

from __future__ import annotations

import ast
import functools
import io
import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra_gen import build_stack, render
from infra_gen.config import ConfigError
from infra_gen.template.budget import INLINE_TEMPLATE_LIMIT
from tests.support import checkov
from tests.support.stack import lint_findings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
CDK = ROOT / "examples" / "cdk"
# The base every CDK app builds on, as the examples build on infra_gen.build_stack.
CDK_BASE = "nginx_probe.py"
WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"
# What each example's docstring says of itself and of its CDK equivalent.
COUNTS = re.compile(
    r"(\d+) logic lines; the AWS CDK \(Python, aws-cdk-lib v2\) equivalent: (\d+)\.".replace(
        " ", r"\s+"
    )
)
# Its logic lines at most this many times its CDK equivalent's.
AT_MOST = 1.0

_NO_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}


def logic_lines(source: str) -> int:
    """Lines of ``source`` holding code: not blank, not only a comment, not part of a
    docstring (module, class or function) or of an import statement."""
    left_out: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            left_out.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and (isinstance(first.value.value, str))
            ):
                left_out.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    code: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NO_CODE:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - left_out)


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


@functools.cache
def _completed(name: str) -> subprocess.CompletedProcess[str]:
    """``examples/<name>`` run by this interpreter (the project's), exit status 0."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def _run(name: str) -> str:
    """What ``examples/<name>`` prints."""
    return _completed(name).stdout


def _printed(name: str) -> dict[str, Any]:
    """The template ``examples/<name>`` prints, YAML or JSON, as data."""
    text = _run(name)
    loaded: dict[str, Any] = (
        json.loads(text) if text.startswith("{") else yaml.load(text, Loader=_Loader)
    )
    return loaded


def test_there_are_examples_each_with_its_cdk_equivalent() -> None:
    names = [
        "api_and_worker.py",
        "host_template.py",
        "queue_grant_alarm.py",
        "second_service.py",
        "three_services.py",
    ]
    assert [p.name for p in EXAMPLES] == names
    assert sorted(p.name for p in CDK.glob("*.py")) == sorted([*names, CDK_BASE])
    assert "not installed" in (CDK / "README.md").read_text(encoding="utf-8")


def test_logic_lines_leave_out_blanks_comments_docstrings_and_imports() -> None:
    source = '''"""A module docstring,
    on two lines."""

    from pathlib import (
        Path,
    )
    import os  # a comment


    def f(x):
        """A function's docstring."""
        # only a comment
        return os.path.join(
            x, "a\\nb"
        )


    text = """a string that is no docstring
    spans two lines"""
    '''
    assert logic_lines(source.replace("\n    ", "\n")) == 6


@pytest.mark.parametrize("name", [p.name for p in EXAMPLES])
def test_example_is_about_as_short_as_its_cdk_equivalent_and_says_so(name: str) -> None:
    example = (ROOT / "examples" / name).read_text(encoding="utf-8")
    ours, theirs = logic_lines(example), logic_lines((CDK / name).read_text(encoding="utf-8"))
    said = COUNTS.search(ast.get_docstring(ast.parse(example)) or "")
    assert said, f"{name}: its docstring gives no counts"
    assert (int(said[1]), int(said[2])) == (ours, theirs)
    assert ours <= AT_MOST * theirs, f"{name}: {ours} logic lines, the CDK's {theirs}"


@pytest.mark.parametrize("name", [p.name for p in EXAMPLES])
def test_example_is_lint_clean_and_fits_or_says_it_deploys_from_s3(name: str) -> None:
    done = _completed(name)
    printed = done.stdout
    assert lint_findings(printed) == []
    doc = ast.get_docstring(ast.parse((ROOT / "examples" / name).read_text(encoding="utf-8")))
    if len(printed.encode()) <= INLINE_TEMPLATE_LIMIT:
        assert done.stderr == "" and "--s3-bucket" not in (doc or "")
        return
    # Over the limit in both forms: the compact JSON, a line saying so, S3 in the docstring.
    assert json.dumps(json.loads(printed), separators=(",", ":"), sort_keys=True) + "\n" == (
        printed
    )
    assert done.stderr.startswith(f"the JSON template is {len(printed.encode()):,} bytes, ")
    assert done.stderr.endswith(": deploy it with --s3-bucket\n")
    assert done.stderr.count("\n") == 1
    assert "--s3-bucket BUCKET" in (doc or "")


@pytest.fixture(scope="module")
def checkov_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """checkov's report on each example's template, from one run over all of them."""
    texts = {p.stem: _run(p.name) for p in EXAMPLES}
    return checkov.scan(texts, tmp_path_factory.mktemp("checkov"))


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_example_passes_checkov(name: str, checkov_reports: dict[str, dict[str, Any]]) -> None:
    report = checkov_reports[name]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["results"]["passed_checks"], "checkov ran no check on it"


def _second() -> dict[str, Any]:
    stack = build_stack()
    stack.add_service(
        "Api",
        {"name": "api", "image": "public.ecr.aws/docker/library/httpd:alpine"},
        path_pattern="/api/*",
        priority=10,
        writable_paths={"httpd-logs": "/usr/local/apache2/logs"},
    )
    loaded: dict[str, Any] = yaml.load(render(stack.template, "yaml"), Loader=_Loader)
    return loaded


def test_second_service_is_routed_by_path_on_the_forwarding_listener() -> None:
    r = _second()["Resources"]
    rule = r["ApiLoadBalancerRule"]["Properties"]
    # The HTTPS listener with a certificate (the HTTP one then only redirects), else HTTP.
    assert rule["ListenerArn"] == {
        "Fn::If": [
            "HasCertificate",
            {"Ref": "LoadBalancerHttpsListener"},
            {"Ref": "LoadBalancerHttpListener"},
        ]
    }
    assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api/*"]
    assert rule["Actions"] == [
        {"TargetGroupArn": {"Ref": "ApiLoadBalancerTargetGroup"}, "Type": "forward"}
    ]
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
        v["Properties"]["SourceSecurityGroupId"]["Ref"]
        for v in r.values()
        if v["Type"] == "AWS::EC2::SecurityGroupIngress"
        and v["Properties"]["GroupId"] == {"Ref": "ApiEcsServiceSecurityGroup"}
    )
    assert sources == ["LoadBalancerSecurityGroup", "ProbeSecurityGroup"]


def test_the_probe_checks_both_services_and_alarms_watch_the_second() -> None:
    r = _second()["Resources"]
    env = r["ProbeFunction"]["Properties"]["Environment"]["Variables"]
    assert "PROBE_SERVICE_NAME" not in env
    assert env["PROBE_SERVICE_NAMES"] == {
        "Fn::Join": [
            ",",
            [
                {"Fn::GetAtt": ["DiscoveryService", "Name"]},
                {"Fn::GetAtt": ["ApiDiscoveryService", "Name"]},
            ],
        ]
    }
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
        ("Api", {"name": "api", "container_port": 0}, "/api/*", 10, "service.container_port"),
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
    changed = sorted(k for k, v in default["Resources"].items() if second["Resources"][k] != v)
    # The probe's service list and the shared execution role's log groups; nothing else.
    assert changed == ["EcsTaskExecutionRole", "ProbeFunction"]
    for section in ("Resources", "Outputs"):
        added = set(second[section]) - set(default[section])
        assert added and all(k.startswith("Api") for k in added)
    assert {k: second["Outputs"][k] for k in default["Outputs"]} == default["Outputs"]
    assert second["Parameters"] == default["Parameters"]


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def test_queue_example_grants_the_tasks_that_queue_alone_and_alarms_to_the_topic() -> None:
    r = _printed("queue_grant_alarm.py")["Resources"]
    queue = r["JobsQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"] == {"SqsManagedSseEnabled": True}
    # The actions of the CDK's grantSendMessages and grantConsumeMessages, on the queue alone.
    arn = [{"Fn::GetAtt": ["JobsQueue", "Arn"]}]
    assert _statements(r["EcsTaskRole"]) == [
        {
            "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
            "Effect": "Allow",
            "Resource": arn,
        },
        {
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            "Effect": "Allow",
            "Resource": arn,
        },
    ]
    # No other role may use the queue.
    roles = [k for k, v in r.items() if v["Type"] == "AWS::IAM::Role" and k != "EcsTaskRole"]
    assert roles and not any("JobsQueue" in json.dumps(r[k]) for k in roles)
    alarm = r["AlarmQueueAge"]["Properties"]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "Maximum",
    )
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsQueue", "QueueName"]}}
    ]


def test_second_service_example_runs_the_pinned_whoami_under_its_path() -> None:
    r = _printed("second_service.py")["Resources"]
    tasks = {k: v for k, v in r.items() if v["Type"] == "AWS::ECS::TaskDefinition"}
    assert sorted(tasks) == ["ApiEcsTaskDefinition", "EcsTaskDefinition"]
    (container,) = tasks["ApiEcsTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert container["Image"] == WHOAMI
    assert container["ReadonlyRootFilesystem"] is True and not container.get("MountPoints")
    rule = r["ApiLoadBalancerRule"]["Properties"]
    assert rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/api/*"]
    assert rule["Actions"] == [
        {"TargetGroupArn": {"Ref": "ApiLoadBalancerTargetGroup"}, "Type": "forward"}
    ]
    assert r["ApiLoadBalancerTargetGroup"]["Properties"]["HealthCheckPath"] == "/api/"
    assert r["ApiScalingTarget"]["Properties"]["MaxCapacity"] == 4
    alarm = r["ApiAlarmTarget5xx"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # A rate: its errors and requests are both of the service's target group.
    for query in [q for q in alarm["Metrics"] if "MetricStat" in q]:
        assert {
            "Name": "TargetGroup",
            "Value": {"Fn::GetAtt": ["ApiLoadBalancerTargetGroup", "TargetGroupFullName"]},
        } in query["MetricStat"]["Metric"]["Dimensions"]
    # Fully alarmed: the first service's alarm set under its scope, four rolling back.
    alarms = sorted(
        k for k, v in r.items() if k.startswith("Api") and v["Type"] == "AWS::CloudWatch::Alarm"
    )
    assert alarms == [
        f"ApiAlarm{name}"
        for name in (
            "ProbeFailedRequests",
            "ProbeNoInstances",
            "ResponseTime",
            "RunningTasks",
            "Target5xx",
            "UnhealthyTargets",
        )
    ]
    rollback = r["ApiEcsService"]["Properties"]["DeploymentConfiguration"]["Alarms"]
    assert rollback["AlarmNames"] == [
        {"Ref": "ApiAlarmTarget5xx"},
        {"Ref": "ApiAlarmUnhealthyTargets"},
        {"Ref": "ApiAlarmResponseTime"},
        {"Ref": "ApiAlarmProbeFailedRequests"},
    ]
    assert "Api: CPU, memory, tasks" in json.dumps(r["Dashboard"])


def test_host_example_keeps_the_hosts_description_metadata_and_console_group_first() -> None:
    t = _printed("host_template.py")
    assert t["Description"].startswith("Payments: ")
    assert t["Metadata"]["Owner"] == {"Team": "payments", "Contact": "payments@example.com"}
    interface = t["Metadata"]["AWS::CloudFormation::Interface"]
    groups = [g["Label"]["default"] for g in interface["ParameterGroups"]]
    assert groups == ["Release", "Service", "Probe", "Alarms", "Security"]
    assert interface["ParameterGroups"][0]["Parameters"] == ["ReleaseColour"]
    assert {"ReleaseColourParameter", "EcsService", "ProbeFunction", "Dashboard"} <= set(
        t["Resources"]
    )


def test_three_services_example_routes_each_added_service_by_its_own_path() -> None:
    r = _printed("three_services.py")["Resources"]
    rules = {
        k: (v["Properties"]["Priority"], v["Properties"]["Conditions"][0]["PathPatternConfig"])
        for k, v in r.items()
        if v["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
    }
    assert rules == {
        "AdminLoadBalancerRule": (20, {"Values": ["/admin/*"]}),
        "ApiLoadBalancerRule": (10, {"Values": ["/api/*"]}),
    }
    names = r["ProbeFunction"]["Properties"]["Environment"]["Variables"]["PROBE_SERVICE_NAMES"]
    assert names == {
        "Fn::Join": [
            ",",
            [
                {"Fn::GetAtt": [f"{scope}DiscoveryService", "Name"]}
                for scope in ("", "Api", "Admin")
            ],
        ]
    }


def test_api_and_worker_example_builds_what_its_docstring_says() -> None:
    t = _printed("api_and_worker.py")
    r, parameters = t["Resources"], t["Parameters"]
    assert {"ApiImage", "WorkerImage"} <= set(parameters)
    assert parameters["ApiImage"]["AllowedPattern"] == parameters["ServiceImage"]["AllowedPattern"]
    group = r["ApiLoadBalancerTargetGroup"]["Properties"]
    assert (group["Port"], group["HealthCheckPath"]) == (8080, "/health")
    (api,) = r["ApiEcsTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert api["Image"] == {"Ref": "ApiImage"} and "HealthCheck" not in api  # no shell
    assert {e["Name"]: e["Value"] for e in api["Environment"]} == {
        "API_KEY_SECRET": {"Ref": "ApiKeySecret"},
        "TABLE": {"Ref": "OrdersTable"},
        "WHOAMI_PORT_NUMBER": "8080",
    }
    assert "Secrets" not in api  # whoami prints its environment: no secret value there
    (worker,) = r["WorkerEcsTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert worker["Secrets"] == [{"Name": "API_KEY", "ValueFrom": {"Ref": "ApiKeySecret"}}]
    assert not [k for k in r if k.startswith("Worker") and ("LoadBalancer" in k or "Probe" in k)]
    assert sorted(k for k in r if k.startswith("WorkerAlarm")) == ["WorkerAlarmRunningTasks"]
    assert sorted(k for k in r if k.startswith("WorkerScaling")) == [
        "WorkerScalingCpuPolicy",
        "WorkerScalingTarget",
    ]
    (consume,) = _statements(r["WorkerEcsTaskRole"])
    assert consume["Resource"] == [{"Fn::GetAtt": ["JobsQueue", "Arn"]}]
    table, secret = _statements(r["ApiEcsTaskRole"])
    assert table["Resource"][0] == {"Fn::GetAtt": ["OrdersTable", "Arn"]}
    assert secret["Resource"] == [{"Ref": "ApiKeySecret"}]
