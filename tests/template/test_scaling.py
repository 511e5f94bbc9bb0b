"""Service auto scaling: the target, its two policies and the count Parameters."""

from __future__ import annotations

import pytest

from infra_gen import Config, ConfigError
from tests.support.stack import of_type, props, refs, template


@pytest.fixture(scope="module")
def t() -> dict:
    return template()


def test_scalable_target_is_the_services_desired_count(t: dict) -> None:
    target = props(t, "ScalingTarget")
    assert (target["ServiceNamespace"], target["ScalableDimension"]) == (
        "ecs",
        "ecs:service:DesiredCount",
    )
    assert target["ResourceId"] == {
        "Fn::Join": [
            "/",
            ["service", {"Ref": "EcsCluster"}, {"Fn::GetAtt": ["EcsService", "Name"]}],
        ]
    }
    assert target["MinCapacity"] == {"Ref": "MinTasks"}
    assert target["MaxCapacity"] == {"Ref": "MaxTasks"}
    # Application Auto Scaling's service-linked role, not a role of the stack.
    assert "RoleARN" not in target


def test_two_target_tracking_policies_on_cpu_and_requests_per_task(t: dict) -> None:
    policies = of_type(t, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert set(policies) == {"ScalingCpuPolicy", "ScalingRequestsPolicy"}
    for policy in policies.values():
        p = policy["Properties"]
        assert p["PolicyType"] == "TargetTrackingScaling"
        assert p["ScalingTargetId"] == {"Ref": "ScalingTarget"}
        tracking = p["TargetTrackingScalingPolicyConfiguration"]
        # Out fast (a task starts in about a minute), in slowly (a dip is not a trend).
        assert tracking["ScaleOutCooldown"] < tracking["ScaleInCooldown"]
    cpu = props(t, "ScalingCpuPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
    }
    # Below the CPU alarm's threshold: the alarm fires only when scaling cannot keep up.
    assert cpu["TargetValue"] < props(t, "AlarmServiceCpu")["Threshold"]
    requests = props(t, "ScalingRequestsPolicy")["TargetTrackingScalingPolicyConfiguration"]
    spec = requests["PredefinedMetricSpecification"]
    assert spec["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    # app/<lb>/<id>/targetgroup/<tg>/<id>: the target group the service registers in.
    assert spec["ResourceLabel"] == {
        "Fn::Join": [
            "/",
            [
                {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]},
                {"Fn::GetAtt": ["LoadBalancerTargetGroup", "TargetGroupFullName"]},
            ],
        ]
    }
    assert props(t, "EcsService")["LoadBalancers"][0]["TargetGroupArn"] == {
        "Ref": "LoadBalancerTargetGroup"
    }


def test_target_follows_the_service_it_scales(t: dict) -> None:
    # Through the GetAtt: the service exists (and is behind its listener) first.
    assert "EcsService" in refs(t["Resources"]["ScalingTarget"])


def test_no_pair_of_count_parameters_puts_the_minimum_above_the_maximum() -> None:
    cfg = Config.from_mapping({"service": {"desired_count": 3}, "scaling": {"max_tasks": 12}})
    params = template(cfg)["Parameters"]
    low, high = params["MinTasks"], params["MaxTasks"]
    assert (low["Default"], high["Default"]) == (3, 12)
    # The ranges meet at scaling.max_tasks: every allowed MinTasks <= every allowed MaxTasks.
    assert low["MinValue"] == 1 and low["MaxValue"] <= high["MinValue"]
    assert high["MaxValue"] == 100
    assert low["Type"] == high["Type"] == "Number"


def test_the_default_minimum_above_the_maximum_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"^service\.desired_count: 11 is above scaling"):
        Config.from_mapping({"service": {"desired_count": 11}, "scaling": {"max_tasks": 10}})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_tasks", 0),
        ("max_tasks", 101),
        ("cpu_percent", 95),
        ("requests_per_target", 0),
        ("scale_in_cooldown_seconds", -1),
    ],
)
def test_bad_scaling_values_are_rejected(key: str, value: int) -> None:
    with pytest.raises(ConfigError, match=rf"^scaling\.{key}: "):
        Config.from_mapping({"scaling": {key: value}})


def test_targets_and_cooldowns_follow_the_config() -> None:
    cfg = Config.from_mapping(
        {
            "scaling": {
                "cpu_percent": 45,
                "requests_per_target": 250,
                "scale_out_cooldown_seconds": 30,
                "scale_in_cooldown_seconds": 600,
            }
        }
    )
    t = template(cfg)
    cpu = props(t, "ScalingCpuPolicy")["TargetTrackingScalingPolicyConfiguration"]
    requests = props(t, "ScalingRequestsPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert (cpu["TargetValue"], requests["TargetValue"]) == (45, 250)
    assert (cpu["ScaleOutCooldown"], cpu["ScaleInCooldown"]) == (30, 600)
