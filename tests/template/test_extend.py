"""Extending a built stack through its handles: metrics, alarms, clients, size."""

from __future__ import annotations

import json

import pytest
from troposphere import Template, ec2

from infra_gen import (
    GREATER,
    LESS,
    AlarmSpec,
    Config,
    ConfigError,
    TemplateTooLarge,
    build_stack,
    check_size,
    largest_parts,
    render,
)
from infra_gen.template.budget import INLINE_TEMPLATE_LIMIT
from tests.support.stack import lint_findings


def _resolve(t: Template, logical_id: str) -> dict:
    return json.loads(render(t, "json"))["Resources"][logical_id]["Properties"]


def test_metrics_name_this_stacks_resources() -> None:
    stack = build_stack()
    t = stack.template
    cases = {
        "lb": (
            stack.load_balancer.metric("RequestCount"),
            "AWS/ApplicationELB",
            "Sum",
            [("LoadBalancer", {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]})],
        ),
        "tg": (
            stack.load_balancer.target_metric("TargetResponseTime", "p99"),
            "AWS/ApplicationELB",
            "p99",
            [
                ("TargetGroup", {"Fn::GetAtt": ["LoadBalancerTargetGroup", "TargetGroupFullName"]}),
                ("LoadBalancer", {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]}),
            ],
        ),
        "svc": (
            stack.service.metric("CPUUtilization", "Maximum"),
            "AWS/ECS",
            "Maximum",
            [
                ("ClusterName", {"Ref": "EcsCluster"}),
                ("ServiceName", {"Fn::GetAtt": ["EcsService", "Name"]}),
            ],
        ),
        "fn": (
            stack.probe.function_metric("Duration", "p90"),
            "AWS/Lambda",
            "p90",
            [("FunctionName", {"Ref": "ProbeFunction"})],
        ),
        "probe": (
            stack.probe.metric("Latency", "p90"),
            "InfraGen/Probe",
            "p90",
            [
                ("Stack", {"Ref": "AWS::StackName"}),
                ("Service", {"Fn::GetAtt": ["DiscoveryService", "Name"]}),
            ],
        ),
    }
    for key, (metric, namespace, statistic, dimensions) in cases.items():
        spec = AlarmSpec(
            logical_id=f"Test{key}", metric=metric, comparison=GREATER, threshold=1, description=key
        )
        stack.alarms.add_alarm(t, spec)
        props = _resolve(t, f"Test{key}")
        assert props["Namespace"] == namespace
        assert [(d["Name"], d["Value"]) for d in props["Dimensions"]] == dimensions
        stat_key = "ExtendedStatistic" if statistic.startswith("p") else "Statistic"
        assert props[stat_key] == statistic and props["MetricName"] == metric.name


def test_an_added_alarm_notifies_the_topic_with_the_stacks_defaults() -> None:
    stack = build_stack(Config.from_mapping({"alarms": {"period_seconds": 300}}))
    t = stack.template
    metric = stack.load_balancer.metric("RequestCount")
    stack.alarms.add_alarm(
        t,
        AlarmSpec(
            logical_id="AlarmNoTraffic",
            metric=metric,
            comparison=LESS,
            threshold=1,
            description="No requests reach the load balancer.",
        ),
    )
    stack.alarms.add_alarm(
        t,
        AlarmSpec(
            logical_id="AlarmTrafficSpike",
            metric=metric,
            comparison=GREATER,
            threshold=1e6,
            description="A traffic spike.",
            period=60,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data="ignore",
        ),
    )
    defaults = _resolve(t, "AlarmNoTraffic")
    assert defaults["AlarmActions"] == defaults["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert (defaults["Period"], defaults["EvaluationPeriods"], defaults["DatapointsToAlarm"]) == (
        300,
        5,
        3,
    )
    assert defaults["TreatMissingData"] == "notBreaching"
    overridden = _resolve(t, "AlarmTrafficSpike")
    assert (
        overridden["Period"],
        overridden["EvaluationPeriods"],
        overridden["DatapointsToAlarm"],
        overridden["TreatMissingData"],
    ) == (60, 2, 2, "ignore")
    assert overridden["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert lint_findings(render(t, "yaml")) == []


def test_admit_opens_the_container_port_to_a_new_client_only() -> None:
    stack = build_stack()
    t = stack.template
    bastion = t.add_resource(
        ec2.SecurityGroup(
            "BastionSecurityGroup",
            GroupDescription="Bastion",
            VpcId=stack.network.vpc.ref(),
        )
    )
    stack.service.admit(
        t,
        bastion,
        ingress_id="EcsServiceIngressFromBastion",
        egress_id="BastionEgressToService",
        description="bastion",
    )
    ingress = _resolve(t, "EcsServiceIngressFromBastion")
    egress = _resolve(t, "BastionEgressToService")
    assert ingress["GroupId"] == {"Ref": "EcsServiceSecurityGroup"}
    assert ingress["SourceSecurityGroupId"] == {"Ref": "BastionSecurityGroup"}
    assert egress["DestinationSecurityGroupId"] == {"Ref": "EcsServiceSecurityGroup"}
    assert ingress["FromPort"] == ingress["ToPort"] == egress["FromPort"] == 80


def test_check_size_measures_any_template_and_refuses_an_oversized_one() -> None:
    stack = build_stack()
    t = stack.template
    size = check_size(t, "yaml")
    assert size == len(render(t, "yaml").encode())
    assert check_size(render(t, "json"), "json") == len(render(t, "json").encode())
    spec = AlarmSpec(
        logical_id="",
        metric=stack.service.metric("CPUUtilization"),
        comparison=GREATER,
        threshold=99,
        description="x" * 1000,
    )
    added = 0
    with pytest.raises(
        TemplateTooLarge,
        match=r"^the YAML template is [0-9,]+ bytes, over the "
        r"51,200 CloudFormation accepts inline; largest: ProbeFunction [0-9,]+, "
        r"Parameters [0-9,]+, Dashboard [0-9,]+$",
    ) as raised:
        while True:  # each alarm adds well over a kilobyte: this ends within 60 rounds
            stack.alarms.add_alarm(t, AlarmSpec(**{**vars(spec), "logical_id": f"Big{added}"}))
            added += 1
            assert added < 60
            check_size(t)
    assert 0 < added and size < INLINE_TEMPLATE_LIMIT
    # Each part's bytes are its lines of the YAML: the probe's from its key to the next one's.
    text = render(t, "yaml")
    lines = text.splitlines(keepends=True)
    start = lines.index("  ProbeFunction:\n")
    end = next(
        i
        for i in range(start + 1, len(lines))
        if lines[i].startswith("  ") and not lines[i].startswith("   ")
    )
    assert raised.value.largest[0] == ("ProbeFunction", len("".join(lines[start:end]).encode()))


def test_largest_parts_in_json_are_each_part_in_compact_json() -> None:
    t = build_stack().template
    data = json.loads(render(t, "json"))
    compact = {
        name: len(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())
        for name, value in [*data["Resources"].items(), ("Parameters", data["Parameters"])]
    }
    largest = largest_parts(render(t, "json"), "json", count=2)
    assert largest == [
        ("ProbeFunction", compact["ProbeFunction"]),
        ("Parameters", compact["Parameters"]),
    ]
    assert largest_parts("{not json", "json") == []
    assert largest_parts("", "yaml") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"logical_id": "Api-Slow"},
            "logical_id: 'Api-Slow' is not allowed; allowed: 1-255 letters and digits",
        ),
        ({"logical_id": None}, "logical_id: None is not allowed"),
        (
            {"logical_id": "EcsCluster"},
            "logical_id: EcsCluster is already the template's AWS::ECS::Cluster",
        ),
        ({"logical_id": "MinTasks"}, "logical_id: MinTasks is already the template's Parameter"),
        ({"logical_id": "ServiceUrl"}, "logical_id: ServiceUrl is already the template's Output"),
        ({"metric": "cpu"}, "metric: 'cpu' is not allowed; allowed: a Metric or MetricMath"),
        (
            {"comparison": "GreaterThan"},
            "comparison: 'GreaterThan' is not allowed; allowed: "
            "GreaterThanOrEqualToThreshold, GreaterThanThreshold",
        ),
        ({"threshold": "2"}, "threshold: '2' is not allowed; allowed: a finite number"),
        ({"threshold": True}, "threshold: True is not allowed"),
        ({"threshold": float("nan")}, "threshold: nan is not allowed"),
        ({"description": ""}, "description: '' is not allowed; allowed: 1-1024 characters"),
        ({"description": "x" * 1025}, "description: 'xxxx"),
        (
            {"treat_missing_data": "breach"},
            "treat_missing_data: 'breach' is not allowed; "
            "allowed: notBreaching, breaching, ignore, missing",
        ),
        ({"period": 45}, "period: 45 is not allowed; allowed: 10, 20, 30 or a multiple of 60"),
        ({"period": 0}, "period: 0 is not allowed"),
        ({"period": 60.0}, "period: 60.0 is not allowed"),
        ({"evaluation_periods": 0}, "evaluation_periods: 0 is not allowed; allowed: 1 or more"),
        (
            {"evaluation_periods": 2, "datapoints_to_alarm": 3},
            "datapoints_to_alarm: 3 is not allowed; allowed: 1..2 (the evaluation periods)",
        ),
        ({"datapoints_to_alarm": 6}, "datapoints_to_alarm: 6 is not allowed; allowed: 1..5"),
    ],
)
def test_an_alarm_cloudwatch_would_refuse_is_one_line_naming_the_field(
    changes: dict, message: str
) -> None:
    stack = build_stack()
    t = stack.template
    spec = AlarmSpec(
        logical_id="AlarmSlow",
        metric=stack.service.target_metric("TargetResponseTime", "p99"),
        comparison=GREATER,
        threshold=2,
        description="Slow.",
    )
    before = render(t, "json")
    with pytest.raises(ConfigError) as raised:
        stack.alarms.add_alarm(t, AlarmSpec(**{**vars(spec), **changes}))
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
    assert render(t, "json") == before
    stack.alarms.add_alarm(t, spec)  # the same spec, unchanged, is taken


@pytest.mark.parametrize(
    ("client", "ids", "description", "message"),
    [
        (
            "sg-123",
            ("Ingress", "Egress"),
            "bastion",
            "client_group: 'sg-123' is not allowed; allowed: a troposphere ec2.SecurityGroup",
        ),
        (None, ("Ingress", "Egress"), "bastion", "client_group: None is not allowed"),
        (
            "group",
            ("Ingress-1", "Egress"),
            "bastion",
            "ingress_id: 'Ingress-1' is not allowed; allowed: 1-255 letters and digits",
        ),
        (
            "group",
            ("Ingress", "EcsCluster"),
            "bastion",
            "egress_id: EcsCluster is already in the template",
        ),
        ("group", ("Rule", "Rule"), "bastion", "egress_id: Rule is ingress_id too"),
        ("group", ("Ingress", "Egress"), " ", "description: ' ' is not allowed"),
    ],
)
def test_admit_refuses_what_is_not_a_client_group_or_a_free_id(
    client: object, ids: tuple[str, str], description: str, message: str
) -> None:
    stack = build_stack()
    t = stack.template
    group = t.add_resource(
        ec2.SecurityGroup(
            "BastionSecurityGroup", GroupDescription="b", VpcId=stack.network.vpc.ref()
        )
    )
    before = render(t, "json")
    with pytest.raises(ConfigError) as raised:
        stack.service.admit(
            t,
            group if client == "group" else client,  # type: ignore[arg-type]
            ingress_id=ids[0],
            egress_id=ids[1],
            description=description,
        )
    assert str(raised.value).startswith(message)
    assert render(t, "json") == before
