"""The probe's wiring in the template: schedule, permission, network, code."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest

from infra_gen import Config, ConfigError
from infra_gen.template.probe import handler_source, inline_code
from tests.support.stack import of_type, props, template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def t() -> dict:
    return template()


# What CloudFormation takes for ZipFile code is 4 MB; this is the budget the stack keeps for
# it, so that composed stacks fit the 51,200 bytes of a template sent inline.
INLINE_BUDGET = 12_288


def _without_docstrings(tree: ast.AST) -> str:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and body
            and (
                isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            )
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def test_inlined_code_is_the_lambda_file_as_a_reviewer_reads_it(t: dict) -> None:
    source = (ROOT / "lambda" / "probe.py").read_text(encoding="utf-8")
    assert handler_source() == source
    code = props(t, "ProbeFunction")["Code"]["ZipFile"]
    assert code == inline_code()
    # The same program: the file's syntax tree, its docstrings aside.
    assert _without_docstrings(ast.parse(code)) == _without_docstrings(ast.parse(source))
    # Source text, not a loader of an encoded payload: no exec, eval or compile builtin,
    # no decoder module.
    tree = ast.parse(code)
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not called & {"exec", "eval", "compile", "__import__"}
    assert not imported & {"base64", "zlib", "lzma", "bz2", "marshal", "codecs", "pickle"}
    # Its lines are the file's lines, comments cut: a reviewer can diff them.
    lines = code.splitlines()
    source_lines = source.splitlines()
    for line in filter(None, lines[1:]):
        assert any(
            whole.startswith(line) and whole[len(line) :].strip()[:1] in ("", "#")
            for whole in source_lines
        ), line
    # The first line names the file and its digest: the deployed code matches the repository.
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    assert lines[0].startswith("# lambda/probe.py") and digest in lines[0]
    assert len(code.encode("utf-8")) <= INLINE_BUDGET


def test_function_runtime_and_handler(t: dict) -> None:
    fn = props(t, "ProbeFunction")
    assert fn["Runtime"] == "python3.14"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "index.handler"
    assert fn["LoggingConfig"] == {"LogGroup": {"Ref": "ProbeLogGroup"}}
    assert props(t, "ProbeLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_function_sits_in_the_vpc_with_its_own_group(t: dict) -> None:
    vpc = props(t, "ProbeFunction")["VpcConfig"]
    assert vpc["SubnetIds"] == [{"Ref": "NetworkPublicSubnet1"}, {"Ref": "NetworkPublicSubnet2"}]
    assert vpc["SecurityGroupIds"] == [{"Ref": "ProbeSecurityGroup"}]


def test_service_group_admits_the_probe_on_the_container_port_only(t: dict) -> None:
    ingress = props(t, "ProbeServiceIngress")
    assert ingress["GroupId"] == {"Ref": "EcsServiceSecurityGroup"}
    assert ingress["SourceSecurityGroupId"] == {"Ref": "ProbeSecurityGroup"}
    assert (ingress["IpProtocol"], ingress["FromPort"], ingress["ToPort"]) == ("tcp", 80, 80)
    egress = props(t, "ProbeEgressToService")
    assert egress["GroupId"] == {"Ref": "ProbeSecurityGroup"}
    assert egress["DestinationSecurityGroupId"] == {"Ref": "EcsServiceSecurityGroup"}


def test_environment_names_the_cloud_map_service_from_the_stack(t: dict) -> None:
    env = props(t, "ProbeFunction")["Environment"]["Variables"]
    # The name alone: the function requests port 80 and / without more.
    assert env["PROBE_SERVICE_NAMES"] == {"Fn::GetAtt": ["DiscoveryService", "Name"]}
    assert env["PROBE_NAMESPACE"] == props(t, "DiscoveryNamespace")["Name"]
    assert "PROBE_PORT" not in env and "PROBE_PATH" not in env
    assert env["PROBE_METRIC_NAMESPACE"] == "InfraGen/Probe"
    assert float(env["PROBE_TIMEOUT_SECONDS"]) == 2.0


def test_schedule_targets_the_function_and_the_permission_is_scoped(t: dict) -> None:
    (rule_id,) = of_type(t, "AWS::Events::Rule")
    rule = props(t, rule_id)
    assert rule["ScheduleExpression"] == {"Ref": "ProbeSchedule"}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ProbeFunction", "Arn"]}
    (permission,) = of_type(t, "AWS::Lambda::Permission").values()
    p = permission["Properties"]
    assert p["FunctionName"] == {"Ref": "ProbeFunction"}
    assert p["Principal"] == "events.amazonaws.com"
    assert p["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


def test_failed_runs_are_not_replayed(t: dict) -> None:
    (target,) = props(t, "ProbeScheduleRule")["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    invoke = props(t, "ProbeInvokeConfig")
    assert invoke["FunctionName"] == {"Ref": "ProbeFunction"}
    assert invoke["MaximumRetryAttempts"] == 0
    assert invoke["MaximumEventAgeInSeconds"] <= 60


@pytest.mark.parametrize("timeout", [0.5, 2, 10, 30])
def test_function_timeout_outlasts_resolution_plus_one_request(timeout: float) -> None:
    cfg = Config.from_mapping({"probe": {"request_timeout_seconds": timeout}})
    fn = props(template(cfg), "ProbeFunction")
    # Resolution and the requests are each bounded by the request timeout and run one
    # after the other; the rest is start-up.
    assert fn["Timeout"] >= 2 * timeout + 1
    assert fn["Timeout"] <= 2 * timeout + 10


def test_schedule_parameter_offers_only_rates_the_heartbeat_alarm_covers(t: dict) -> None:
    param = t["Parameters"]["ProbeSchedule"]
    assert param["AllowedValues"] == ["rate(1 minute)", "rate(2 minutes)", "rate(5 minutes)"]
    assert props(t, "AlarmProbeNotRunning")["Period"] == 5 * 60
    slower = template(
        Config.from_mapping(
            {"probe": {"schedule": "rate(30 minutes)"}, "alarms": {"probe_missing_minutes": 45}}
        )
    )
    offered = slower["Parameters"]["ProbeSchedule"]["AllowedValues"]
    assert offered[-1] == "rate(30 minutes)" and "rate(1 hour)" not in offered
    assert props(slower, "AlarmProbeNotRunning")["Period"] == 45 * 60


def test_the_code_in_the_template_probes_real_nginx(probe_world, tmp_path: Path) -> None:
    """The exact ZipFile string, saved as CloudFormation saves it, run as Lambda runs it."""
    from tests.support.emf import validate_emf

    code = props(template(), "ProbeFunction")["Code"]["ZipFile"]
    index = tmp_path / "index.py"
    index.write_text(code, encoding="utf-8")
    result = probe_world.run(index, probe_world.env("healthy"))
    assert result.exit_status == 0, result.error
    assert result.counts == {"healthy": (3, 3, 0)}
    validate_emf(result.stdout_lines[-1])
    mixed = probe_world.run(index, probe_world.env("refused-mixed"))
    assert mixed.failed == 1
    assert [p["error"] for p in mixed.probes].count("connection_refused") == 1


def test_watch_requests_a_service_on_its_own_port_and_path() -> None:
    import dataclasses
    import json

    from infra_gen import build_stack
    from infra_gen.template.render import render

    stack = build_stack()
    t = stack.template
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    # The same tasks as listening on 8080: the probe follows the service's port.
    on_8080 = dataclasses.replace(api, port=8080)
    stack.probe.watch(t, on_8080, api.discovery, scope="Health", path="/health")
    r = json.loads(render(t, "json"))["Resources"]
    names = r["ProbeFunction"]["Properties"]["Environment"]["Variables"]["PROBE_SERVICE_NAMES"]
    api_name = {"Fn::GetAtt": ["ApiDiscoveryService", "Name"]}
    assert names == {
        "Fn::Join": [
            ",",
            [
                {"Fn::GetAtt": ["DiscoveryService", "Name"]},
                api_name,  # port 80 and /, as the first service: the name alone
                {"Fn::Join": ["", [api_name, ":8080/health"]]},
            ],
        ]
    }
    ingress = r["HealthProbeServiceIngress"]["Properties"]
    assert (ingress["FromPort"], ingress["ToPort"]) == (8080, 8080)
    assert ingress["SourceSecurityGroupId"] == {"Ref": "ProbeSecurityGroup"}
    egress = r["HealthProbeEgressToService"]["Properties"]
    assert (egress["FromPort"], egress["ToPort"]) == (8080, 8080)


@pytest.mark.parametrize("path", ["/a,b", "health", "/a b", 7])
def test_watch_refuses_a_path_the_function_cannot_read_before_adding_anything(
    path: object,
) -> None:
    from infra_gen import ConfigError, build_stack
    from infra_gen.template.render import render

    stack = build_stack()
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    before = render(stack.template, "json")
    with pytest.raises(ConfigError, match="^path: .* is not allowed; allowed: a path without"):
        stack.probe.watch(stack.template, api, api.discovery, scope="Other", path=path)  # type: ignore[arg-type]
    assert render(stack.template, "json") == before


def test_first_service_entry_carries_a_port_and_path_other_than_80_and_slash() -> None:
    cfg = Config.from_mapping({"service": {"container_port": 8080}, "probe": {"path": "/health"}})
    env = props(template(cfg), "ProbeFunction")["Environment"]["Variables"]
    assert env["PROBE_SERVICE_NAMES"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["DiscoveryService", "Name"]}, ":8080/health"]]
    }
    with pytest.raises(ConfigError, match="^probe.path: "):
        Config.from_mapping({"probe": {"path": "/a,b"}})
