"""Alarms: what each one watches, how, and that it watches this stack's resources."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra_gen import Config, ConfigError
from infra_gen.config import PROBE_SCHEDULES
from tests.support.stack import of_type, props, template

ROOT = Path(__file__).resolve().parents[2]
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
    "AlarmProbeFailedRequests": (
        PROBE,
        "FailedRequests",
        PROBE_DIMS,
        "Sum",
        "GreaterThanOrEqualToThreshold",
        1,
        "notBreaching",
    ),
    "AlarmProbeNoInstances": (
        PROBE,
        "DiscoveredInstances",
        PROBE_DIMS,
        "Minimum",
        "LessThanThreshold",
        1,
        "notBreaching",
    ),
    "AlarmProbeNotRunning": (
        "AWS/Lambda",
        "Invocations",
        FN,
        "Sum",
        "LessThanThreshold",
        1,
        "breaching",
    ),
    "AlarmProbeErrors": (
        "AWS/Lambda",
        "Errors",
        FN,
        "Sum",
        "GreaterThanOrEqualToThreshold",
        1,
        "notBreaching",
    ),
    "AlarmProbeThrottles": (
        "AWS/Lambda",
        "Throttles",
        FN,
        "Sum",
        "GreaterThanOrEqualToThreshold",
        1,
        "notBreaching",
    ),
    "AlarmLoadBalancer5xx": (
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        LB,
        "Sum",
        "GreaterThanOrEqualToThreshold",
        5,
        "notBreaching",
    ),
    "AlarmTarget5xx": (
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        TG,
        "Sum",
        "GreaterThanOrEqualToThreshold",
        5,
        "notBreaching",
    ),
    "AlarmUnhealthyTargets": (
        "AWS/ApplicationELB",
        "UnHealthyHostCount",
        TG,
        "Maximum",
        "GreaterThanOrEqualToThreshold",
        1,
        "notBreaching",
    ),
    "AlarmResponseTime": (
        "AWS/ApplicationELB",
        "TargetResponseTime",
        TG,
        "p90",
        "GreaterThanThreshold",
        1.0,
        "notBreaching",
    ),
    "AlarmServiceCpu": (
        "AWS/ECS",
        "CPUUtilization",
        SVC,
        "Average",
        "GreaterThanThreshold",
        80.0,
        "notBreaching",
    ),
    "AlarmServiceMemory": (
        "AWS/ECS",
        "MemoryUtilization",
        SVC,
        "Average",
        "GreaterThanThreshold",
        80.0,
        "notBreaching",
    ),
}


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
        assert re.search(rf"[\"']{metric}[\"']|\b{metric}=", source), metric


def test_thresholds_and_windows_follow_the_config() -> None:
    cfg = Config.from_mapping(
        {
            "alarms": {
                "period_seconds": 300,
                "evaluation_periods": 4,
                "datapoints_to_alarm": 2,
                "cpu_percent": 65,
                "alb_5xx_count": 20,
                "probe_missing_minutes": 15,
                "response_time_seconds": 0.5,
            },
            "probe": {"metric_namespace": "Shop/Probe"},
        }
    )
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


# --------------------------------------------------------------------------------------
# Windows at every schedule the ProbeSchedule Parameter allows, read from the template.
# --------------------------------------------------------------------------------------

PER_RUN = (
    "AlarmProbeFailedRequests",
    "AlarmProbeNoInstances",
    "AlarmProbeErrors",
    "AlarmProbeThrottles",
)


def _resolve(t: dict, value: object, schedule: str) -> object:
    """``value`` with Ref ProbeSchedule = ``schedule``: conditions and Fn::If evaluated."""

    def condition(expr: object) -> bool:
        if isinstance(expr, str):
            return condition(t["Conditions"][expr])
        assert isinstance(expr, dict)
        ((fn, args),) = expr.items()
        if fn == "Fn::Equals":
            a, b = (schedule if arg == {"Ref": "ProbeSchedule"} else arg for arg in args)
            return a == b
        if fn == "Fn::Or":
            return any(condition(a) for a in args)
        if fn == "Fn::Not":
            return not condition(args[0])
        raise AssertionError(fn)

    if isinstance(value, dict) and "Fn::If" in value:
        name, yes, no = value["Fn::If"]
        return _resolve(t, yes if condition(name) else no, schedule)
    return value


def _minutes(schedule: str) -> int:
    number, unit = re.fullmatch(r"rate\((\d+) (minutes?|hours?)\)", schedule).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit.startswith("hour") else 1)


def _check_windows(t: dict) -> list[str]:
    allowed = t["Parameters"]["ProbeSchedule"]["AllowedValues"]
    assert allowed
    for schedule in allowed:
        interval = _minutes(schedule) * 60
        for logical_id in PER_RUN:
            alarm = props(t, logical_id)
            period = _resolve(t, alarm["Period"], schedule)
            assert isinstance(period, int) and period % 60 == 0, (logical_id, schedule)
            window = period * alarm["EvaluationPeriods"]
            # Every period holds a run, so the window holds DatapointsToAlarm runs...
            assert period >= interval, (logical_id, schedule, period)
            assert window // interval >= alarm["DatapointsToAlarm"], (logical_id, schedule)
            # ... and CloudWatch evaluates at most a day (a week with hour-long periods).
            assert window <= (86400 if period < 3600 else 7 * 86400), (logical_id, schedule)
        heartbeat = props(t, "AlarmProbeNotRunning")
        assert heartbeat["Period"] * heartbeat["EvaluationPeriods"] >= interval, schedule
        assert heartbeat["TreatMissingData"] == "breaching"
    return allowed


def test_per_run_alarms_can_fire_at_every_deploy_time_schedule() -> None:
    # The slowest heartbeat window: ProbeSchedule then allows every schedule there is.
    t = template(Config.from_mapping({"alarms": {"probe_missing_minutes": 60}}))
    assert len(_check_windows(t)) == 7
    # The default: 1, 2 and 5 minutes, each with its own period.
    t = template()
    assert _check_windows(t) == ["rate(1 minute)", "rate(2 minutes)", "rate(5 minutes)"]
    periods = [
        _resolve(t, props(t, "AlarmProbeErrors")["Period"], s)
        for s in t["Parameters"]["ProbeSchedule"]["AllowedValues"]
    ]
    assert periods == [60, 300, 300]


@pytest.mark.parametrize("schedule", list(PROBE_SCHEDULES))
@pytest.mark.parametrize("period_seconds", [60, 300])
def test_per_run_alarms_can_fire_at_every_generation_time_schedule(
    schedule: str, period_seconds: int
) -> None:
    minutes = PROBE_SCHEDULES[schedule]
    cfg = Config.from_mapping(
        {
            "probe": {"schedule": schedule},
            "alarms": {"probe_missing_minutes": max(5, minutes), "period_seconds": period_seconds},
        }
    )
    t = template(cfg)
    assert t["Parameters"]["ProbeSchedule"]["Default"] == schedule
    assert schedule in _check_windows(t)


def test_a_window_beyond_cloudwatchs_limit_is_rejected_before_generation() -> None:
    # 15-minute schedules take 900 s periods: at most 96 of them in a day.
    with pytest.raises(ConfigError, match=r"^alarms\.evaluation_periods: 97 periods of 900 s"):
        Config.from_mapping(
            {
                "alarms": {
                    "probe_missing_minutes": 15,
                    "evaluation_periods": 97,
                    "datapoints_to_alarm": 3,
                }
            }
        )
    Config.from_mapping({"alarms": {"probe_missing_minutes": 15, "evaluation_periods": 96}})
    # Hour-long periods: up to a week.
    Config.from_mapping({"alarms": {"probe_missing_minutes": 60, "evaluation_periods": 100}})


def test_topic_has_no_display_name_to_outgrow() -> None:
    # SNS limits DisplayName to 100 characters; a stack name may be longer.
    assert "DisplayName" not in props(template(), "AlarmTopic")
