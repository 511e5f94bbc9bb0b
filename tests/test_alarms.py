"""Alarms: what each one watches, how, and that it watches this stack's resources."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from stack import of_type, props, template

from infra_gen import Config

ROOT = Path(__file__).resolve().parents[1]
PROBE = "InfraGen/Probe"
LB = {"LoadBalancer": {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]}}
TG = {
    "TargetGroup": {"Fn::GetAtt": ["LoadBalancerTargetGroup", "TargetGroupFullName"]},
    **LB,
}
SVC = {
    "ClusterName": {"Ref": "EcsCluster"},
    "ServiceName": {"Fn::GetAtt": ["EcsService", "Name"]},
}
FN = {"FunctionName": {"Ref": "ProbeFunction"}}
PROBE_DIMS = {
    "Stack": {"Ref": "AWS::StackName"},
    "Service": {"Fn::GetAtt": ["DiscoveryService", "Name"]},
}

# logical id: namespace, metric, dimensions, statistic, comparison, threshold, missing data
EXPECTED = {
    "AlarmProbeFailedRequests": (PROBE, "FailedRequests", PROBE_DIMS, "Sum",
                                 "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
    "AlarmProbeNoInstances": (PROBE, "DiscoveredInstances", PROBE_DIMS, "Minimum",
                              "LessThanThreshold", 1, "notBreaching"),
    "AlarmProbeNotRunning": ("AWS/Lambda", "Invocations", FN, "Sum",
                             "LessThanThreshold", 1, "breaching"),
    "AlarmProbeErrors": ("AWS/Lambda", "Errors", FN, "Sum",
                         "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
    "AlarmProbeThrottles": ("AWS/Lambda", "Throttles", FN, "Sum",
                            "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
    "AlarmLoadBalancer5xx": ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", LB, "Sum",
                             "GreaterThanOrEqualToThreshold", 5, "notBreaching"),
    "AlarmTarget5xx": ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", TG, "Sum",
                       "GreaterThanOrEqualToThreshold", 5, "notBreaching"),
    "AlarmUnhealthyTargets": ("AWS/ApplicationELB", "UnHealthyHostCount", TG, "Maximum",
                              "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
    "AlarmResponseTime": ("AWS/ApplicationELB", "TargetResponseTime", TG, "p90",
                          "GreaterThanThreshold", 1.0, "notBreaching"),
    "AlarmServiceCpu": ("AWS/ECS", "CPUUtilization", SVC, "Average",
                        "GreaterThanThreshold", 80.0, "notBreaching"),
    "AlarmServiceMemory": ("AWS/ECS", "MemoryUtilization", SVC, "Average",
                           "GreaterThanThreshold", 80.0, "notBreaching"),
}  # fmt: skip


@pytest.fixture(scope="module")
def t() -> dict:
    return template()


def _dims(alarm: dict) -> dict:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def test_every_condition_has_exactly_one_alarm(t: dict) -> None:
    assert set(of_type(t, "AWS::CloudWatch::Alarm")) == set(EXPECTED) | {"AlarmRunningTasks"}


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_single_metric_alarm(t: dict, logical_id: str) -> None:
    namespace, metric, dims, stat, comparison, threshold, missing = EXPECTED[logical_id]
    alarm = props(t, logical_id)
    assert alarm["Namespace"] == namespace
    assert alarm["MetricName"] == metric
    assert _dims(alarm) == dims
    assert alarm.get("Statistic", alarm.get("ExtendedStatistic")) == stat
    assert alarm["ComparisonOperator"] == comparison
    assert alarm["Threshold"] == threshold
    assert alarm["TreatMissingData"] == missing
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    assert len(alarm["AlarmDescription"]) > 40 and "first" in alarm["AlarmDescription"]


def test_running_tasks_compares_desired_with_running(t: dict) -> None:
    alarm = props(t, "AlarmRunningTasks")
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    for query_id, metric in (("desired", "DesiredTaskCount"), ("running", "RunningTaskCount")):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"]["Namespace"] == "ECS/ContainerInsights"
        assert stat["Metric"]["MetricName"] == metric
        assert _dims(stat["Metric"]) == SVC
        assert queries[query_id]["ReturnData"] is False
    assert queries["missing"]["Expression"] == "desired - running"
    assert queries["missing"]["ReturnData"] is True
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert "Period" not in alarm and "Namespace" not in alarm


def test_probe_metric_names_are_the_ones_the_handler_writes() -> None:
    source = (ROOT / "lambda" / "probe.py").read_text()
    for metric in ("FailedRequests", "DiscoveredInstances", "SuccessfulRequests", "Latency"):
        assert re.search(rf"[\"']{metric}[\"']", source), metric


def test_thresholds_and_windows_follow_the_config() -> None:
    cfg = Config.from_mapping(
        {
            "alarms": {
                "period_seconds": 300, "evaluation_periods": 4, "datapoints_to_alarm": 2,
                "cpu_percent": 65, "alb_5xx_count": 20, "probe_missing_minutes": 15,
                "response_time_seconds": 0.5,
            },
            "probe": {"metric_namespace": "Shop/Probe"},
        }
    )  # fmt: skip
    t = template(cfg)
    cpu = props(t, "AlarmServiceCpu")
    assert (cpu["Period"], cpu["EvaluationPeriods"], cpu["DatapointsToAlarm"]) == (300, 4, 2)
    assert cpu["Threshold"] == 65
    assert props(t, "AlarmLoadBalancer5xx")["Threshold"] == 20
    assert props(t, "AlarmResponseTime")["Threshold"] == 0.5
    assert props(t, "AlarmProbeFailedRequests")["Namespace"] == "Shop/Probe"
    heartbeat = props(t, "AlarmProbeNotRunning")
    assert (heartbeat["Period"], heartbeat["EvaluationPeriods"]) == (900, 1)


def test_topic_and_optional_email(t: dict) -> None:
    subscription = t["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert t["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert t["Parameters"]["AlarmEmail"]["Default"] == ""
    (policy,) = of_type(t, "AWS::SNS::TopicPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}
    assert statement["Action"] == ["sns:Publish"]


def test_no_dimension_is_a_literal_name(t: dict) -> None:
    for logical_id, alarm in of_type(t, "AWS::CloudWatch::Alarm").items():
        body = json.dumps(alarm["Properties"].get("Dimensions", alarm["Properties"].get("Metrics")))
        for dim in re.findall(r'"Value": ("[^"]*")', body):
            pytest.fail(f"{logical_id} has a literal dimension value {dim}")
