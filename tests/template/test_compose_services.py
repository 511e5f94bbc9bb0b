"""Added services as a team's own: their own port, health check and probe path, workers
without a route, and an image Parameter each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from troposphere import Parameter

from infra_gen import ConfigError, Stack, build_stack, render
from tests.support import checkov
from tests.support.stack import GOVERNED, lint_findings

PRIVATE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:1.2"
WGET = ["CMD-SHELL", "wget -qO/dev/null http://127.0.0.1:8080/health || exit 1"]


def _data(stack: Stack) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render(stack.template, "json"))
    return loaded


def _api(stack: Stack, **options: Any) -> Any:
    service = {"name": "api", "container_port": 8080, "health_check_path": "/health"}
    return stack.add_service(
        "Api",
        {**service, **options.pop("service", {})},
        path_pattern="/api/*",
        priority=10,
        **options,
    )


def _rules_on(r: dict[str, Any], group: str) -> dict[str, tuple[int, int]]:
    """The ingress and egress rules naming ``group``: logical ID -> (from, to) port."""
    return {
        k: (v["Properties"]["FromPort"], v["Properties"]["ToPort"])
        for k, v in r.items()
        if v["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
        and {"Ref": group}
        in (v["Properties"].get("GroupId"), v["Properties"].get("DestinationSecurityGroupId"))
    }


def test_an_added_service_listens_on_its_own_port_and_everything_follows_it() -> None:
    stack = build_stack()
    before = _data(stack)["Resources"]
    api = _api(stack, health_check=WGET)
    r = _data(stack)["Resources"]
    assert api.port == 8080
    group = r["ApiLoadBalancerTargetGroup"]["Properties"]
    assert (group["Port"], group["HealthCheckPath"]) == (8080, "/health")
    (container,) = r["ApiEcsTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert [m["ContainerPort"] for m in container["PortMappings"]] == [8080]
    assert container["HealthCheck"] == {"Command": WGET}
    assert r["ApiEcsService"]["Properties"]["LoadBalancers"][0]["ContainerPort"] == 8080
    # The load balancer and the probe reach it on 8080, both sides' rules; nothing else does.
    assert _rules_on(r, "ApiEcsServiceSecurityGroup") == {
        "ApiEcsServiceIngressFromLoadBalancer": (8080, 8080),
        "ApiEcsLoadBalancerEgressToService": (8080, 8080),
        "ApiProbeServiceIngress": (8080, 8080),
        "ApiProbeEgressToService": (8080, 8080),
    }
    # The first service keeps its port, rules and health check, byte for byte.
    for logical_id in (
        "EcsTaskDefinition",
        "EcsService",
        "LoadBalancerTargetGroup",
        "EcsServiceIngressFromLoadBalancer",
        "ProbeServiceIngress",
    ):
        assert r[logical_id] == before[logical_id], logical_id
    assert lint_findings(render(stack.template, "json")) == []


def test_the_probe_path_defaults_to_the_health_check_path_and_none_is_not_probed() -> None:
    stack = build_stack()
    _api(stack)
    worker = stack.add_service("Worker", {"name": "worker"}, path_pattern=None, probe_path=None)
    r = _data(stack)["Resources"]
    names = r["ProbeFunction"]["Properties"]["Environment"]["Variables"]["PROBE_SERVICE_NAMES"]
    api_name = {"Fn::GetAtt": ["ApiDiscoveryService", "Name"]}
    assert names == {  # the API on its own port and path: name:8080/health
        "Fn::Join": [
            ",",
            [
                {"Fn::GetAtt": ["DiscoveryService", "Name"]},
                {"Fn::Join": ["", [api_name, ":8080/health"]]},
            ],
        ]
    }
    assert "ApiAlarmProbeFailedRequests" in r
    # Not probed: no probe rules, no probe alarms; nothing reaches its tasks.
    assert not [k for k in r if k.startswith("Worker") and "Probe" in k]
    assert _rules_on(r, "WorkerEcsServiceSecurityGroup") == {}
    assert worker.route is None


def test_a_worker_has_no_route_but_cloud_map_cpu_scaling_and_its_tasks_alarm() -> None:
    stack = build_stack()
    worker = stack.add_service(
        "Worker",
        {"name": "worker"},
        path_pattern=None,
        scaling={"max_tasks": 4},
        all_alarms=True,
        dashboard=True,
    )
    data = _data(stack)
    r = data["Resources"]
    added = sorted(k for k in r if k.startswith("Worker"))
    assert added == [
        "WorkerAlarmProbeFailedRequests",
        "WorkerAlarmProbeNoInstances",
        "WorkerAlarmRunningTasks",
        "WorkerDiscoveryService",
        "WorkerEcsService",
        "WorkerEcsServiceLogGroup",
        "WorkerEcsServiceSecurityGroup",
        "WorkerEcsTaskDefinition",
        "WorkerEcsTaskRole",
        "WorkerProbeEgressToService",
        "WorkerProbeServiceIngress",
        "WorkerScalingCpuPolicy",
        "WorkerScalingTarget",
    ]
    service = r["WorkerEcsService"]["Properties"]
    assert "LoadBalancers" not in service and "HealthCheckGracePeriodSeconds" not in service
    assert "DependsOn" not in r["WorkerEcsService"]
    assert "Alarms" not in service["DeploymentConfiguration"]  # no target group to roll back on
    assert service["ServiceRegistries"] == [
        {"RegistryArn": {"Fn::GetAtt": ["WorkerDiscoveryService", "Arn"]}}
    ]
    assert worker.scaling is not None and worker.scaling.requests_policy is None
    assert worker.target_group is None and worker.rule is None
    # Reached by the probe alone (it serves HTTP on the port), never by the load balancer.
    assert set(_rules_on(r, "WorkerEcsServiceSecurityGroup")) == {
        "WorkerProbeServiceIngress",
        "WorkerProbeEgressToService",
    }
    assert sorted(k for k in data["Outputs"] if k.startswith("Worker")) == [
        "WorkerDiscoveryName",
        "WorkerServiceName",
    ]
    assert worker.outputs.service_url is None
    body = json.dumps(r["Dashboard"])
    assert "Worker: CPU, memory, tasks" in body and "Worker: requests" not in body
    assert lint_findings(render(stack.template, "json")) == []


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"path_pattern": None, "priority": 10}, "priority"),
        ({"path_pattern": "/api/*"}, "priority"),
        ({"path_pattern": "/api/*", "priority": None}, "priority"),
        ({"path_pattern": None, "probe_path": "health"}, "probe_path"),
        ({"path_pattern": None, "probe_path": "/a\n"}, "probe_path"),
        ({"path_pattern": None, "probe_path": b"/"}, "probe_path"),
        ({"path_pattern": None, "health_check": "wget ..."}, "health_check"),
        ({"path_pattern": None, "health_check": ["wget", "-q"]}, "health_check"),
        ({"path_pattern": None, "health_check": ["CMD-SHELL"]}, "health_check"),
        ({"path_pattern": None, "health_check": ["CMD-SHELL", "a", "b"]}, "health_check"),
        ({"path_pattern": None, "health_check": ["CMD", ""]}, "health_check"),
        ({"path_pattern": None, "health_check": ["CMD", "x" * 1024]}, "health_check"),
        ({"path_pattern": None, "health_check": ["CMD", "a\nb"]}, "health_check[1]"),
        ({"path_pattern": None, "image_parameter": 1}, "image_parameter"),
        ({"path_pattern": None, "image_parameter": "yes"}, "image_parameter"),
    ],
)
def test_bad_worker_probe_and_health_check_arguments_are_refused_untouched(
    options: dict[str, Any], key: str
) -> None:
    stack = build_stack()
    before = render(stack.template, "json")
    with pytest.raises(ConfigError) as raised:
        stack.add_service("Worker", {"name": "worker"}, **options)
    message = str(raised.value)
    assert message.startswith(f"{key}: ") and "\n" not in message
    assert render(stack.template, "json") == before


def test_an_image_parameter_takes_a_release_without_generating_again() -> None:
    stack = build_stack()
    api = _api(stack, image_parameter=True)
    data = _data(stack)
    parameter = data["Parameters"]["ApiImage"]
    first = data["Parameters"]["ServiceImage"]
    assert parameter["Default"] == "public.ecr.aws/docker/library/nginx:stable-alpine"
    # The first service's pattern, as the image is public.
    assert parameter["AllowedPattern"] == first["AllowedPattern"]
    assert re.fullmatch(parameter["AllowedPattern"], "ghcr.io/team/api:2.0")
    assert not re.fullmatch(parameter["AllowedPattern"], "not an image!")
    (container,) = data["Resources"]["ApiEcsTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert container["Image"] == {"Ref": "ApiImage"}
    groups = data["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert "ApiImage" in next(g for g in groups if g["Label"]["default"] == "Service")["Parameters"]
    # Pulls from this account's ECR follow the Parameter's value, as the first service's.
    assert data["Conditions"]["ApiIsPrivateEcrImage"] == json.loads(
        json.dumps(data["Conditions"]["IsPrivateEcrImage"]).replace("ServiceImage", "ApiImage")
    )
    policies = data["Resources"]["EcsTaskExecutionRole"]["Properties"]["Policies"]
    (pull,) = [p for p in policies if "Fn::If" in p and p["Fn::If"][0] == "ApiIsPrivateEcrImage"]
    assert pull["Fn::If"][1]["PolicyName"] == "pull-Api-image"
    assert api.task_definition.title == "ApiEcsTaskDefinition"
    assert lint_findings(render(stack.template, "json")) == []


def test_a_private_image_parameter_keeps_to_its_repository() -> None:
    stack = build_stack()
    _api(stack, image_parameter=True, service={"image": PRIVATE})
    data = _data(stack)
    pattern = data["Parameters"]["ApiImage"]["AllowedPattern"]
    assert re.fullmatch(pattern, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.3")
    assert not re.fullmatch(pattern, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other:1.3")
    assert not re.fullmatch(pattern, "ghcr.io/team/api:1.3")
    policies = data["Resources"]["EcsTaskExecutionRole"]["Properties"]["Policies"]
    (pull,) = [p for p in policies if "Fn::If" in p and p["Fn::If"][0] == "ApiIsPrivateEcrImage"]
    images = pull["Fn::If"][1]["PolicyDocument"]["Statement"][1]["Resource"]
    repository = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/team/api"
    assert images == [{"Fn::Sub": repository}]


def test_a_taken_image_parameter_is_refused_untouched() -> None:
    stack = build_stack()
    stack.template.add_parameter(Parameter("ApiImage", Type="String", Default="x"))
    before = render(stack.template, "json")
    with pytest.raises(ConfigError, match=r"^image_parameter: .*ApiImage is already taken"):
        _api(stack, image_parameter=True)
    assert render(stack.template, "json") == before


def _composed(cfg: dict[str, Any] | None) -> str:
    stack = build_stack(cfg)
    _api(
        stack, image_parameter=True, scaling={}, all_alarms=True, dashboard=True, health_check=WGET
    )
    stack.add_service(
        "Worker",
        {"name": "worker"},
        path_pattern=None,
        probe_path=None,
        image_parameter=True,
        scaling={},
        all_alarms=True,
        dashboard=True,
    )
    return render(stack.template, "json")


def test_an_api_on_its_own_port_and_a_worker_pass_checkov_default_and_governed(
    tmp_path: Path,
) -> None:
    texts = {"default": _composed(None), "governed": _composed(GOVERNED)}
    for text in texts.values():
        assert lint_findings(text) == []
    for name, report in checkov.scan(texts, tmp_path).items():
        failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
        assert failed == [], name
        assert report["results"]["passed_checks"], name
