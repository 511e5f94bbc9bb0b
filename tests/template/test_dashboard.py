"""The dashboard: valid JSON, four views, only metrics this stack produces."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.stack import props, template

# Every metric the stack emits or that AWS emits for the stack's resources, per namespace.
PRODUCED = {
    "InfraGen/Probe": {"DiscoveredInstances", "SuccessfulRequests", "FailedRequests", "Latency"},
    "AWS/ApplicationELB": {
        "RequestCount",
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
    },
    "AWS/ECS": {"CPUUtilization", "MemoryUtilization"},
    "ECS/ContainerInsights": {"DesiredTaskCount", "RunningTaskCount"},
    "AWS/Lambda": {"Invocations", "Errors", "Duration"},
}
VARIABLES = {
    "ProbeService": {"Fn::GetAtt": ["DiscoveryService", "Name"]},
    "LoadBalancer": {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]},
    "TargetGroup": {"Fn::GetAtt": ["LoadBalancerTargetGroup", "TargetGroupFullName"]},
    "Cluster": {"Ref": "EcsCluster"},
    "Service": {"Fn::GetAtt": ["EcsService", "Name"]},
    "Function": {"Ref": "ProbeFunction"},
}


@pytest.fixture(scope="module")
def body_and_vars() -> tuple[dict, dict]:
    text, variables = props(template(), "Dashboard")["DashboardBody"]["Fn::Sub"]
    return json.loads(text), variables


def test_placeholders_are_this_stacks_resources(body_and_vars: tuple[dict, dict]) -> None:
    body, variables = body_and_vars
    assert variables == VARIABLES
    used = set(re.findall(r"\$\{([^}]+)\}", json.dumps(body)))
    assert used == set(VARIABLES) | {"AWS::Region", "AWS::StackName"}


def test_names_only_metrics_the_stack_produces(body_and_vars: tuple[dict, dict]) -> None:
    body, _ = body_and_vars
    seen = set()
    for widget in body["widgets"]:
        assert widget["type"] == "metric"
        previous: list = []
        for short in widget["properties"]["metrics"]:
            # "." repeats the previous row's value at that position.
            row = [previous[i] if v == "." else v for i, v in enumerate(short)]
            previous = row
            namespace, name = row[0], row[1]
            assert name in PRODUCED[namespace], (namespace, name)
            seen.add((namespace, name))
            dims = row[2:-1] if isinstance(row[-1], dict) else row[2:]
            assert all(str(v).startswith("${") for v in dims[1::2]), row
    titles = " ".join(w["properties"]["title"] for w in body["widgets"])
    for topic in ("Probe", "Load balancer", "Service", "Probe function"):
        assert topic in titles
    assert ("InfraGen/Probe", "Latency") in seen and ("AWS/Lambda", "Duration") in seen
    # The task count as scaling sets it and as it runs.
    assert {("ECS/ContainerInsights", m) for m in ("DesiredTaskCount", "RunningTaskCount")} <= seen


def test_widgets_do_not_overlap(body_and_vars: tuple[dict, dict]) -> None:
    body, _ = body_and_vars
    cells = set()
    for w in body["widgets"]:
        for x in range(w["x"], w["x"] + w["width"]):
            for y in range(w["y"], w["y"] + w["height"]):
                assert (x, y) not in cells
                cells.add((x, y))
        assert w["x"] + w["width"] <= 24


def test_url_output_points_at_the_dashboard_in_the_partitions_console() -> None:
    t = template()
    url, variables = t["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://${Console}/cloudwatch/home?region=${AWS::Region}")
    assert url.endswith("#dashboards:name=${Dashboard}")
    assert variables["Console"] == {
        "Fn::FindInMap": ["ConsoleDomains", {"Ref": "AWS::Partition"}, "Domain"]
    }
    assert {p: v["Domain"] for p, v in t["Mappings"]["ConsoleDomains"].items()} == {
        "aws": "console.aws.amazon.com",
        "aws-cn": "console.amazonaws.cn",
        "aws-us-gov": "console.amazonaws-us-gov.com",
    }
