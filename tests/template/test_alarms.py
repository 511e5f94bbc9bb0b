"""Alarms: what each one watches, how, and that it watches this stack's resources."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

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
    assert set(of_type(t, "AWS::CloudWatch::Alarm")) == set(EXPECTED) | {
        "AlarmRunningTasks",
        *RATES,
    }


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
                "error_rate_percent": 2.5,
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
    assert props(t, "AlarmLoadBalancer5xx")["Threshold"] == 2.5
    assert props(t, "AlarmResponseTime")["Threshold"] == 0.5
    assert props(t, "AlarmProbeFailedRequests")["Namespace"] == "Shop/Probe"
    heartbeat = props(t, "AlarmProbeNotRunning")
    # Schedules up to 15 minutes: two empty 15-minute periods, never one late run.
    assert (heartbeat["Period"], heartbeat["EvaluationPeriods"]) == (900, 2)


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
        # Only empty periods in a row raise it, together twice the interval: a run that
        # EventBridge delays by seconds leaves no such window.
        assert heartbeat["DatapointsToAlarm"] == heartbeat["EvaluationPeriods"], schedule
        assert heartbeat["Period"] * heartbeat["EvaluationPeriods"] >= 2 * interval, schedule
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


# --------------------------------------------------------------------------------------
# Error rates: the metric math, read from the template and evaluated.
# --------------------------------------------------------------------------------------

# logical id: the error metric, its dimensions
RATES = {
    "AlarmLoadBalancer5xx": ("HTTPCode_ELB_5XX_Count", LB),
    "AlarmTarget5xx": ("HTTPCode_Target_5XX_Count", TG),
}


class _V:
    """A datapoint of metric math: a number, or missing (None) as CloudWatch has none."""

    def __init__(self, value: float | bool | None) -> None:
        self.value = value

    def _op(self, other: object, fn: Any) -> _V:
        b = other.value if isinstance(other, _V) else other
        if self.value is None or b is None:
            return _V(None)
        try:
            return _V(fn(self.value, b))
        except ZeroDivisionError:
            return _V(math.inf)

    def __truediv__(self, o: object) -> _V:
        return self._op(o, lambda a, b: a / b)

    def __mul__(self, o: object) -> _V:
        return self._op(o, lambda a, b: a * b)

    def __rmul__(self, o: object) -> _V:
        return self._op(o, lambda a, b: b * a)

    def __sub__(self, o: object) -> _V:
        return self._op(o, lambda a, b: a - b)

    def __ge__(self, o: object) -> _V:  # type: ignore[override]
        return self._op(o, lambda a, b: a >= b)


def _if(condition: _V, yes: _V | float, no: _V | float) -> _V:
    if condition.value is None:
        return _V(None)
    chosen = yes if condition.value else no
    return chosen if isinstance(chosen, _V) else _V(chosen)


def _fill(v: _V, value: float) -> _V:
    return _V(value) if v.value is None else v


def _max(values: list[_V]) -> _V:
    present = [v.value for v in values if v.value is not None]
    return _V(max(present) if present else None)


def evaluate(alarm: dict, datapoint: dict[str, float | None]) -> float | None:
    """The alarm's metric math at one period, each input's value given by query ID."""
    (result,) = [q for q in alarm["Metrics"] if q.get("ReturnData")]
    expression = result["Expression"]
    # The functions the template uses, and nothing else, as Python calls.
    assert set(re.findall(r"[A-Z]+(?=\()", expression)) <= {"IF", "FILL", "MAX"}, expression
    python = expression.replace("IF(", "_if(").replace("FILL(", "_fill(").replace("MAX(", "_max(")
    names = {k: _V(v) for k, v in datapoint.items()}
    value = eval(python, {"_if": _if, "_fill": _fill, "_max": _max}, names)  # noqa: S307
    assert isinstance(value, _V)
    return None if value.value is None else float(value.value)


def _inputs(alarm: dict) -> dict[str, dict]:
    return {q["Id"]: q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q}


@pytest.mark.parametrize("logical_id", sorted(RATES))
def test_5xx_alarms_are_rates_with_a_minimum_request_count(t: dict, logical_id: str) -> None:
    errors, dims = RATES[logical_id]
    alarm = props(t, logical_id)
    inputs = _inputs(alarm)
    assert {k: (v["Metric"]["MetricName"], v["Stat"]) for k, v in inputs.items()} == {
        "e": (errors, "Sum"),
        "r": ("RequestCount", "Sum"),
    }
    for stat in inputs.values():
        assert _dims(stat["Metric"]) == dims
        assert stat["Period"] == 60
    assert alarm["Metrics"][-1]["Expression"] == "IF(r>=10,100*FILL(e,0)/r,0)"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    # 20 of 1,000 requests fail: 2 %, over the 1 % threshold; 5 of 1,000 is under it.
    assert evaluate(alarm, {"e": 20, "r": 1000}) == 2.0
    assert evaluate(alarm, {"e": 5, "r": 1000}) == 0.5
    # Nothing failed: the load balancer publishes no 5xx count at all; FILL reads 0.
    assert evaluate(alarm, {"e": None, "r": 1000}) == 0.0
    # The guard: 1 of 2 requests failing is not a 50 % rate: under 10 requests reads 0.
    assert evaluate(alarm, {"e": 1, "r": 2}) == 0.0
    assert evaluate(alarm, {"e": 10, "r": 10}) == 100.0
    # Idle: no request, so no datapoint; missing data does not breach.
    assert evaluate(alarm, {"e": None, "r": None}) is None
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_the_rate_settings_reach_the_math() -> None:
    cfg = Config.from_mapping({"alarms": {"min_requests": 50, "error_rate_percent": 0.5}})
    alarm = props(template(cfg), "AlarmTarget5xx")
    assert alarm["Metrics"][-1]["Expression"] == "IF(r>=50,100*FILL(e,0)/r,0)"
    assert alarm["Threshold"] == 0.5
    assert evaluate(alarm, {"e": 40, "r": 49}) == 0.0


# --------------------------------------------------------------------------------------
# Rollback: which alarms roll a deployment back, and that they can within the bake.
# --------------------------------------------------------------------------------------

ROLLBACK = [
    "AlarmTarget5xx",
    "AlarmUnhealthyTargets",
    "AlarmResponseTime",
    "AlarmProbeFailedRequests",
]


def _rollback(t: dict, service: str = "EcsService") -> list[str]:
    alarms = props(t, service)["DeploymentConfiguration"]["Alarms"]
    assert (alarms["Enable"], alarms["Rollback"]) == (True, True)
    return [ref["Ref"] for ref in alarms["AlarmNames"]]


def test_deployments_roll_back_on_what_users_feel(t: dict) -> None:
    assert _rollback(t) == ROLLBACK


@pytest.mark.parametrize("deployment", ["canary", "linear"])
def test_a_shifted_service_judges_the_worse_of_its_two_target_groups(deployment: str) -> None:
    t = template(Config.from_mapping({"service": {"deployment": deployment}}))
    assert _rollback(t) == ROLLBACK
    alt = {
        "TargetGroup": {"Fn::GetAtt": ["LoadBalancerAlternateTargetGroup", "TargetGroupFullName"]},
        **LB,
    }
    rate = props(t, "AlarmTarget5xx")
    inputs = _inputs(rate)
    assert {k: _dims(v["Metric"]) for k, v in inputs.items()} == {
        "e0": TG,
        "r0": TG,
        "e1": alt,
        "r1": alt,
    }
    # The canary's group: 5 of its 50 requests fail while the old revision serves 950
    # well. The rate is the canary's 10 %, not the 0.5 % of all requests.
    assert evaluate(rate, {"e0": None, "r0": 950, "e1": 5, "r1": 50}) == 10.0
    # Each group has its own guard: 3 requests to the canary, all failing, read 0.
    assert evaluate(rate, {"e0": None, "r0": 997, "e1": 3, "r1": 3}) == 0.0
    for logical_id, metric in (
        ("AlarmUnhealthyTargets", "UnHealthyHostCount"),
        ("AlarmResponseTime", "TargetResponseTime"),
    ):
        alarm = props(t, logical_id)
        assert [
            (_dims(v["Metric"]), v["Metric"]["MetricName"]) for v in _inputs(alarm).values()
        ] == [(TG, metric), (alt, metric)]
        assert evaluate(alarm, {"m0": 0.2, "m1": None}) == 0.2
        assert evaluate(alarm, {"m0": 0.2, "m1": 3.0}) == 3.0


def _seconds_to_fire(t: dict, logical_id: str, schedule: str) -> int:
    alarm = props(t, logical_id)
    period = _resolve(
        t, alarm.get("Period") or alarm["Metrics"][0]["MetricStat"]["Period"], schedule
    )
    assert isinstance(period, int)
    return period * alarm["DatapointsToAlarm"]


@pytest.mark.parametrize(
    ("settings", "probe_missing_minutes"),
    [
        ({"deployment": "canary"}, 5),
        ({"deployment": "linear"}, 5),
        ({"deployment": "canary", "canary_bake_minutes": 45, "bake_minutes": 45}, 15),
        ({"deployment": "linear", "linear_step_minutes": 12, "bake_minutes": 45}, 15),
        ({"deployment": "canary", "canary_bake_minutes": 180, "bake_minutes": 180}, 60),
    ],
)
def test_rollback_alarms_can_fire_within_the_bake_at_every_schedule(
    settings: dict, probe_missing_minutes: int
) -> None:
    cfg = Config.from_mapping(
        {"service": settings, "alarms": {"probe_missing_minutes": probe_missing_minutes}}
    )
    t = template(cfg)
    config = props(t, "EcsService")["DeploymentConfiguration"]
    if "CanaryConfiguration" in config:
        shifting = config["CanaryConfiguration"]["CanaryBakeTimeInMinutes"] * 60
    else:
        linear = config["LinearConfiguration"]
        steps = math.ceil(100 / linear["StepPercent"]) - 1
        shifting = steps * linear["StepBakeTimeInMinutes"] * 60
    schedules = t["Parameters"]["ProbeSchedule"]["AllowedValues"]
    assert (
        schedules[-1]
        == {5: "rate(5 minutes)", 15: "rate(15 minutes)", 60: "rate(1 hour)"}[probe_missing_minutes]
    )
    for schedule in schedules:
        for logical_id in _rollback(t):
            # Before all traffic shifts, and again before the old revision stops.
            fire = _seconds_to_fire(t, logical_id, schedule)
            assert fire <= shifting, (logical_id, schedule, fire, shifting)
            assert fire <= config["BakeTimeInMinutes"] * 60, (logical_id, schedule)


def test_a_bake_too_short_for_the_rollback_alarms_is_refused() -> None:
    # rate(5 minutes) takes 300 s periods, 3 breaching of them: 15 minutes.
    with pytest.raises(ConfigError, match=r"^service\.canary_bake_minutes: 10 is shorter than "):
        Config.from_mapping({"service": {"deployment": "canary", "canary_bake_minutes": 10}})
    with pytest.raises(ConfigError, match=r"^service\.linear_step_minutes: 3 x 4 steps "):
        Config.from_mapping({"service": {"deployment": "linear", "linear_step_minutes": 3}})
    with pytest.raises(ConfigError, match=r"^service\.bake_minutes: 14 is shorter than "):
        Config.from_mapping({"service": {"deployment": "canary", "bake_minutes": 14}})
    # A rolling deployment has no bake to judge in: the same settings are not refused.
    Config.from_mapping({"service": {"canary_bake_minutes": 10, "bake_minutes": 0}})


# --------------------------------------------------------------------------------------
# The heartbeat: holds at every schedule, fires when the probe stops.
# --------------------------------------------------------------------------------------


def _heartbeat_fires(period: int, periods: int, runs: list[int], until: int) -> bool:
    """Whether ``periods`` aligned periods in a row hold no run (missing data breaches)."""
    empty = 0
    for start in range(0, until - period + 1, period):
        empty = 0 if any(start <= r < start + period for r in runs) else empty + 1
        if empty >= periods:
            return True
    return False


@pytest.mark.parametrize("missing", [1, 2, 5, 10, 15, 30, 45, 60, 90])
def test_heartbeat_holds_at_every_schedule_and_fires_when_runs_stop(missing: int) -> None:
    t = template(Config.from_mapping({"alarms": {"probe_missing_minutes": missing}}))
    heartbeat = props(t, "AlarmProbeNotRunning")
    period, periods = heartbeat["Period"], heartbeat["EvaluationPeriods"]
    assert heartbeat["DatapointsToAlarm"] == periods
    assert heartbeat["TreatMissingData"] == "breaching"
    day = 86400
    for schedule in t["Parameters"]["ProbeSchedule"]["AllowedValues"]:
        interval = _minutes(schedule) * 60
        # EventBridge delays a run by up to a minute: the worst case, every other run
        # on time and late by 59 s, at each offset of the schedule against the periods.
        for offset in range(0, interval, 60):
            runs = [offset + n * interval + (59 if n % 2 else 0) for n in range(day // interval)]
            assert not _heartbeat_fires(period, periods, runs, day), (schedule, offset)
        # The probe stops after an hour: the alarm fires within (periods + 1) periods.
        runs = [n * interval for n in range(3600 // interval)]
        assert _heartbeat_fires(period, periods, runs, 3600 + (periods + 1) * period), schedule
