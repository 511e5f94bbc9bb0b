"""CloudWatch alarms on every way the service can be unhealthy, and their SNS topic.

Each alarm watches this stack's own resources (dimensions are references, never
literal names) and its description tells the person on call where to look first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from awacs import sns as sns_actions
from awacs.aws import Allow, ArnLike, Condition, PolicyDocument, Principal, Statement
from troposphere import Equals, If, Not, Or, Ref, Sub, Template, cloudwatch, ecs, sns

from ..config import LOGICAL_ID, PROBE_SCHEDULES, Config, ConfigError, probe_alarm_period
from ..errors import shown
from . import ids
from .checkov_skips import skip_checks
from .held import held_by
from .loadbalancer import LoadBalancer
from .metrics import Metric, MetricMath
from .params import GROUP_ALARMS, add_parameter
from .probe import Probe
from .service import Service

__all__ = [
    "AlarmSpec",
    "Alarms",
    "add_alarms",
    "error_rate",
    "heartbeat_periods",
    "roll_back_on",
    "service_specs",
    "GREATER",
    "GREATER_OR_EQUAL",
    "LESS",
    "LESS_OR_EQUAL",
]

PROBE_PERIOD = "ProbeAlarmPeriod{}"  # condition: the schedule needs this period (s)
# The alarms that roll a deployment back: what users feel (errors, latency), what the
# probe sees of the new tasks, and targets failing their checks.
ROLLBACK = (
    ids.Alarms.TARGET_5XX,
    ids.Alarms.UNHEALTHY_TARGETS,
    ids.Alarms.RESPONSE_TIME,
    ids.Alarms.PROBE_FAILED_REQUESTS,
)


def error_rate(errors: list[Metric], requests: list[Metric], min_requests: int) -> MetricMath:
    """The percentage of ``requests`` that are ``errors``, pair by pair, the worst pair's.

    A period with fewer than ``min_requests`` requests reads 0: two requests, one
    failing, are not a 50 % error rate. A count the load balancer did not publish (it
    publishes none while nothing fails) is 0 (FILL). Two pairs are a canary's two target
    groups: the rate of the one holding the new revision is not diluted by the other.
    """
    inputs: list[tuple[str, Metric]] = []
    rates = []
    for n, (e, r) in enumerate(zip(errors, requests, strict=True)):
        suffix = str(n) if len(errors) > 1 else ""
        inputs += [(f"e{suffix}", e), (f"r{suffix}", r)]
        rates.append(f"IF(r{suffix}>={min_requests},100*FILL(e{suffix},0)/r{suffix},0)")
    return MetricMath(
        expression=rates[0] if len(rates) == 1 else f"MAX([{','.join(rates)}])",
        label="5xx %",
        inputs=tuple(inputs),
        result_id="rate",
    )


def _worst(metrics: list[Metric]) -> Metric | MetricMath:
    """One target group's metric as it is; two groups' (a canary's) as the worse of them
    at each period, the idle group's read as 0."""
    if len(metrics) == 1:
        return metrics[0]
    ids_ = [f"m{n}" for n in range(len(metrics))]
    return MetricMath(
        expression="MAX([" + ",".join(f"FILL({i},0)" for i in ids_) + "])",
        label=metrics[0].name,
        inputs=tuple(zip(ids_, metrics, strict=True)),
        result_id="worst",
    )


def heartbeat_periods(cfg: Config) -> int:
    """Periods of ``alarms.probe_missing_minutes`` the probe-not-running alarm needs
    empty: together at least twice the slowest schedule's interval the template allows,
    so a run that EventBridge delays by seconds never leaves the whole window empty."""
    minutes = cfg.alarms.probe_missing_minutes
    return max(1, -(-2 * cfg.slowest_schedule_minutes // minutes))


GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
GREATER = "GreaterThanThreshold"
LESS = "LessThanThreshold"
LESS_OR_EQUAL = "LessThanOrEqualToThreshold"


@dataclass(frozen=True, kw_only=True, eq=False)
class AlarmSpec:
    """One alarm as data: what it watches, when it fires, where to look first.

    Unset fields take the stack's defaults (:class:`Alarms`); a metric math alarm
    reads its inputs over ``period``.
    """

    logical_id: str
    """The alarm's logical ID (public API once deployed)."""
    metric: Metric | MetricMath
    """What it watches: from a handle, e.g. ``load_balancer.target_metric(...)``."""
    comparison: str
    """``GREATER``, ``GREATER_OR_EQUAL``, ``LESS`` or ``LESS_OR_EQUAL`` (CloudWatch's names)."""
    threshold: float
    """The value the comparison is against."""
    description: str
    """What is wrong and where to look first: the on-call person reads it in the e-mail."""
    treat_missing_data: str = "notBreaching"
    """``notBreaching`` (default), ``breaching``, ``ignore`` or ``missing``."""
    period: int | If | None = None
    """Seconds per datapoint; default ``alarms.period_seconds``."""
    evaluation_periods: int | None = None
    """Periods per evaluation; default ``alarms.evaluation_periods``."""
    datapoints_to_alarm: int | None = None
    """Breaching periods that raise it; default ``alarms.datapoints_to_alarm``."""


@dataclass(frozen=True, eq=False)
class Alarms:
    """The alarm topic, the stack's alarms and its defaults for more of them."""

    topic: sns.Topic
    """The SNS topic every alarm notifies (``AlarmEmail`` subscribes to it)."""
    alarms: tuple[cloudwatch.Alarm, ...]
    """The stack's own alarms."""
    period: int
    """Default seconds per datapoint (``alarms.period_seconds``)."""
    evaluation_periods: int
    """Default periods per evaluation (``alarms.evaluation_periods``)."""
    datapoints_to_alarm: int
    """Default breaching periods that raise an alarm (``alarms.datapoints_to_alarm``)."""
    probe_period: int | If = 60
    """Period of alarms on the probe's per-run metrics: at least one schedule interval."""

    def add_alarm(self, t: Template, spec: AlarmSpec) -> cloudwatch.Alarm:
        """Add the alarm ``spec`` describes, notifying the topic on ALARM and on OK.

        Period, evaluation periods and datapoints default to the stack's. A spec CloudWatch
        or the template would refuse (a logical ID not alphanumeric or already in the
        template, an unknown comparison or missing-data treatment, a period other than 10,
        20, 30 or a multiple of 60, datapoints above the evaluation periods, a threshold
        that is not a number, a description that is empty or over 1,024 characters) raises
        :class:`ConfigError` naming the field, and adds nothing; so do a ``t`` that is no
        template, a ``spec`` that is no :class:`AlarmSpec`, a period times evaluation
        periods over CloudWatch's day (a week for periods of an hour or more), metric
        math IDs CloudWatch refuses, and a metric naming what ``t`` does not hold. Call
        :func:`infra_gen.check_size` after adding several: each alarm costs about
        700 bytes of the template's 51,200.
        """
        if not isinstance(t, Template):
            raise ConfigError("t", f"{shown(t)} is not allowed; allowed: a troposphere Template")
        if t.resources.get(self.topic.title) is not self.topic:
            raise ConfigError("t", "add_alarm: the alarm topic is not in this template")
        if not isinstance(spec, AlarmSpec):
            raise ConfigError(
                "spec", f"{shown(spec)} is not allowed; allowed: an AlarmSpec(logical_id=..., ...)"
            )
        period = self.period if spec.period is None else spec.period
        evaluation = (
            self.evaluation_periods
            if spec.evaluation_periods is None
            else (spec.evaluation_periods)
        )
        datapoints = (
            self.datapoints_to_alarm
            if spec.datapoints_to_alarm is None
            else (spec.datapoints_to_alarm)
        )
        _check(t, spec, period, evaluation, datapoints)
        props: dict[str, Any] = {
            "AlarmDescription": spec.description,
            "AlarmActions": [self.topic.ref()],
            "OKActions": [self.topic.ref()],
            "EvaluationPeriods": evaluation,
            "DatapointsToAlarm": datapoints,
            "ComparisonOperator": spec.comparison,
            "Threshold": spec.threshold,
            "TreatMissingData": spec.treat_missing_data,
        }
        if isinstance(spec.metric, MetricMath):  # the period is set per query
            props["Metrics"] = spec.metric.queries(period)
        else:
            props.update(spec.metric.alarm_properties(), Period=period)
        return t.add_resource(cloudwatch.Alarm(spec.logical_id, **props))


COMPARISONS = (GREATER_OR_EQUAL, GREATER, LESS, LESS_OR_EQUAL)
_DAY, _WEEK = 86_400, 604_800


def _finite(number: float) -> bool:
    """Whether ``number`` is a finite double: an int past 1.8e308 is not."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def _periods(period: object) -> list[int]:
    """The seconds ``period`` may be: itself, or each branch of an ``If``."""
    if isinstance(period, If):
        branches = period.data["Fn::If"][1:]
        return [b for b in branches if type(b) is int]
    return [period] if type(period) is int else []


MISSING_DATA = ("notBreaching", "breaching", "ignore", "missing")


def _check(
    t: Template, spec: AlarmSpec, period: object, evaluation: object, datapoints: object
) -> None:
    """Refuse, naming the field, what CloudWatch or the template would refuse."""
    name = spec.logical_id
    if not (isinstance(name, str) and LOGICAL_ID.fullmatch(name)):
        raise ConfigError(
            "logical_id",
            f"{shown(name)} is not allowed; allowed: 1-255 letters and digits, e.g. AlarmQueueAge",
        )
    kind = held_by(t, name)
    if kind is not None:
        raise ConfigError("logical_id", f"{name} is already the template's {kind}")
    if not isinstance(spec.metric, Metric | MetricMath):
        raise ConfigError(
            "metric",
            f"{shown(spec.metric)} is not allowed; allowed: a Metric or "
            "MetricMath from a handle, e.g. stack.service.metric(...)",
        )
    if spec.comparison not in COMPARISONS:
        raise ConfigError(
            "comparison",
            f"{shown(spec.comparison)} is not allowed; allowed: {', '.join(COMPARISONS)}",
        )
    if type(spec.threshold) not in (int, float) or not _finite(spec.threshold):
        raise ConfigError(
            "threshold", f"{shown(spec.threshold)} is not allowed; allowed: a finite number"
        )
    if not (isinstance(spec.description, str) and 0 < len(spec.description) <= 1024):
        raise ConfigError(
            "description",
            f"{shown(spec.description)} is not allowed; allowed: "
            "1-1024 characters saying what is wrong and where to look first",
        )
    if spec.treat_missing_data not in MISSING_DATA:
        raise ConfigError(
            "treat_missing_data",
            f"{shown(spec.treat_missing_data)} is not allowed; allowed: {', '.join(MISSING_DATA)}",
        )
    if not isinstance(period, If) and not (
        type(period) is int and (period in (10, 20, 30) or (period > 0 and period % 60 == 0))
    ):
        raise ConfigError(
            "period",
            f"{shown(period)} is not allowed; allowed: 10, 20, 30 or a multiple of 60 (seconds)",
        )
    if not (type(evaluation) is int and evaluation >= 1):
        raise ConfigError(
            "evaluation_periods", f"{shown(evaluation)} is not allowed; allowed: 1 or more"
        )
    if not (type(datapoints) is int and 1 <= datapoints <= evaluation):
        raise ConfigError(
            "datapoints_to_alarm",
            f"{shown(datapoints)} is not allowed; allowed: "
            f"1..{evaluation} (the evaluation periods)",
        )
    # CloudWatch: period x evaluation periods at most 7 days, and at most one day for
    # periods under an hour (PutMetricAlarm, Period). A conditional period: each value.
    for seconds in _periods(period):
        most = _WEEK if seconds >= 3600 else _DAY
        if seconds * evaluation > most:
            raise ConfigError(
                "evaluation_periods",
                f"{evaluation} periods of {seconds} s is {seconds * evaluation:,} s; "
                f"allowed: at most {most:,} s (CloudWatch's limit for that period)",
            )
    for dimension in spec.metric.names():
        if dimension not in t.resources and dimension not in t.parameters:
            raise ConfigError(
                "metric",
                f"names {dimension}, which is no resource or Parameter of this template; "
                "allowed: a metric of this template's handles",
            )


def add_alarms(
    t: Template, cfg: Config, *, load_balancer: LoadBalancer, service: Service, probe: Probe
) -> Alarms:
    """Add the alarm topic, its policy and e-mail subscription, and the stack's alarms.

    Args:
        t: the template it adds to.
        cfg: reads ``[alarms]``.
        load_balancer: what the load balancer alarms watch.
        service: what the service alarms watch; its deployments roll back on two.
        probe: what the probe alarms watch, and the schedules their period follows.

    Returns:
        The alarms' handle, to add more (:meth:`Alarms.add_alarm`).

    Template cost: about 9 KB of compact JSON; each alarm about 0.7 KB.
    """
    topic = _add_topic(t, cfg)
    a = cfg.alarms
    handle = Alarms(
        topic=topic,
        alarms=(),
        period=a.period_seconds,
        evaluation_periods=a.evaluation_periods,
        datapoints_to_alarm=a.datapoints_to_alarm,
        probe_period=_probe_period(t, cfg, probe.schedules),
    )
    specs = _specs(cfg, handle.probe_period, load_balancer, service, probe)
    alarms = {spec.logical_id: handle.add_alarm(t, spec) for spec in specs}
    roll_back_on(service, *(alarms[name] for name in ROLLBACK))
    return replace(handle, alarms=tuple(alarms.values()))


def roll_back_on(service: Service, *alarms: cloudwatch.Alarm) -> None:
    """Roll back a deployment of ``service`` that raises one of ``alarms``.

    ECS watches the alarms during each deployment, through the bake time of a canary
    or linear one.
    """
    # A release that passes the health check path but serves errors, answers slowly,
    # fails the probe's requests, or whose targets fail the checks, is rolled back.
    service.service.DeploymentConfiguration.Alarms = ecs.DeploymentAlarms(
        AlarmNames=[alarm.ref() for alarm in alarms], Enable=True, Rollback=True
    )


def service_specs(cfg: Config, service: Service, scope: str = "") -> list[AlarmSpec]:
    """The alarms on one service behind the load balancer.

    Target 5xx, unhealthy targets, p90 response time, fewer running tasks than desired;
    a service without a route (no target group) the last alone.

    Args:
        cfg: reads ``[alarms]``.
        service: the service they watch.
        scope: prefix of their logical IDs, named in each description. Default:
            ``""``, the first service's.

    Returns:
        The four specifications, for :meth:`Alarms.add_alarm`.
    """
    a = cfg.alarms
    named = f"{scope} " if scope else ""  # "Api p90 response time", "Fewer Api tasks"
    route = service.route

    def per_group(name: str, statistic: str = "Sum") -> list[Metric]:
        groups = route.target_groups if route is not None else ()
        return [route.target_metric(name, statistic, g) for g in groups if route is not None]

    missing_tasks = MetricMath(
        expression="desired - running",
        label="Tasks missing",
        result_id="missing",
        inputs=(
            ("desired", service.insights_metric("DesiredTaskCount")),
            ("running", service.insights_metric("RunningTaskCount")),
        ),
    )
    running = AlarmSpec(
        logical_id=scope + ids.Alarms.RUNNING_TASKS,
        metric=missing_tasks,
        comparison=GREATER,
        threshold=0,
        description=f"Fewer {named}tasks run than desired. Look first at the ECS service events.",
    )
    if service.route is None:  # no target group: nothing but the tasks to watch
        return [running]
    return [
        AlarmSpec(
            logical_id=scope + ids.Alarms.TARGET_5XX,
            metric=error_rate(
                per_group("HTTPCode_Target_5XX_Count"), per_group("RequestCount"), a.min_requests
            ),
            comparison=GREATER_OR_EQUAL,
            threshold=a.error_rate_percent,
            description=(f"{scope} tasks" if scope else "Tasks")
            + " answer 5xx. Look first at the service log group.",
        ),
        AlarmSpec(
            logical_id=scope + ids.Alarms.UNHEALTHY_TARGETS,
            metric=_worst(per_group("UnHealthyHostCount", "Maximum")),
            comparison=GREATER_OR_EQUAL,
            threshold=1,
            description=(f"{scope} targets" if scope else "Targets")
            + " fail health checks. Look first at the target group's target health.",
        ),
        AlarmSpec(
            logical_id=scope + ids.Alarms.RESPONSE_TIME,
            metric=_worst(per_group("TargetResponseTime", "p90")),
            comparison=GREATER,
            threshold=a.response_time_seconds,
            description=f"{named}p90 response time is degraded. Look first at the service CPU "
            "and task count.",
        ),
        running,
    ]


def _specs(
    cfg: Config, per_run: int | If, lb: LoadBalancer, service: Service, probe: Probe
) -> list[AlarmSpec]:
    """The stack's alarms, one row each. ``per_run``: the probe's runs are once per
    schedule interval, so its per-run alarms take periods of at least one interval
    (the window of evaluation_periods periods then holds at least that many runs,
    whatever schedule ProbeSchedule picks at deploy time)."""
    a = cfg.alarms
    return [
        AlarmSpec(
            logical_id=ids.Alarms.PROBE_FAILED_REQUESTS,
            metric=probe.metric("FailedRequests"),
            comparison=GREATER_OR_EQUAL,
            threshold=a.probe_failed_requests,
            period=per_run,
            description="Probe requests to tasks fail. Look first at the probe log group, a "
            "line per task.",
        ),
        AlarmSpec(
            logical_id=ids.Alarms.PROBE_NO_INSTANCES,
            metric=probe.metric("DiscoveredInstances", "Minimum"),
            comparison=LESS,
            threshold=1,
            period=per_run,
            description="The probe finds no task in Cloud Map DNS. Look first at the ECS "
            "service events.",
        ),
        # No data is the symptom here: a probe that stops running must alarm.
        AlarmSpec(
            logical_id=ids.Alarms.PROBE_NOT_RUNNING,
            metric=probe.function_metric("Invocations"),
            comparison=LESS,
            threshold=1,
            treat_missing_data="breaching",
            period=a.probe_missing_minutes * 60,
            evaluation_periods=heartbeat_periods(cfg),
            datapoints_to_alarm=heartbeat_periods(cfg),
            description="The probe has not run: the service is unwatched. Look first at the "
            "schedule rule.",
        ),
        AlarmSpec(
            logical_id=ids.Alarms.PROBE_ERRORS,
            metric=probe.function_metric("Errors"),
            comparison=GREATER_OR_EQUAL,
            threshold=1,
            period=per_run,
            description="The probe function itself fails. Look first at the probe log group.",
        ),
        AlarmSpec(
            logical_id=ids.Alarms.PROBE_THROTTLES,
            metric=probe.function_metric("Throttles"),
            comparison=GREATER_OR_EQUAL,
            threshold=1,
            period=per_run,
            description="The probe is throttled. Look first at the account's Lambda "
            "concurrent executions.",
        ),
        AlarmSpec(
            logical_id=ids.Alarms.LOAD_BALANCER_5XX,
            metric=error_rate(
                [lb.metric("HTTPCode_ELB_5XX_Count")], [lb.metric("RequestCount")], a.min_requests
            ),
            comparison=GREATER_OR_EQUAL,
            threshold=a.error_rate_percent,
            description="The load balancer answers 5xx itself. Look first at target health.",
        ),
        *service_specs(cfg, service),
        AlarmSpec(
            logical_id=ids.Alarms.SERVICE_CPU,
            metric=service.metric("CPUUtilization"),
            comparison=GREATER,
            threshold=a.cpu_percent,
            description="Service CPU saturates. Look first at the dashboard's request count.",
        ),
        AlarmSpec(
            logical_id=ids.Alarms.SERVICE_MEMORY,
            metric=service.metric("MemoryUtilization"),
            comparison=GREATER,
            threshold=a.memory_percent,
            description="Service memory saturates. Look first at the stopped tasks' reasons.",
        ),
    ]


def _add_topic(t: Template, cfg: Config) -> sns.Topic:
    email = add_parameter(
        t,
        ids.Alarms.EMAIL,
        group=GROUP_ALARMS,
        description="Subscribed to the alarm topic; empty subscribes no one.",
        Type="String",
        Default=cfg.alarms.email,
        AllowedPattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$",
        ConstraintDescription="must be empty or an e-mail address",
    )
    t.add_condition(ids.Alarms.HAS_EMAIL, Not(Equals(email.ref(), "")))
    # No DisplayName: it is limited to 100 characters, which a stack name can exceed;
    # e-mail then comes from "AWS Notifications" and names the alarm and stack.
    topic = t.add_resource(sns.Topic(ids.Alarms.TOPIC))
    skip_checks(
        topic,
        {"CKV_AWS_26": ("CloudWatch cannot publish under the AWS managed key; alarm states only")},
    )
    t.add_resource(
        sns.TopicPolicy(
            ids.Alarms.TOPIC_POLICY,
            Topics=[topic.ref()],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="CloudWatchAlarmsOfThisAccountPublish",
                        Effect=Allow,
                        Principal=Principal("Service", ["cloudwatch.amazonaws.com"]),
                        Action=[sns_actions.Publish],
                        Resource=[topic.ref()],
                        Condition=Condition(
                            ArnLike(
                                "aws:SourceArn",
                                Sub(
                                    "arn:${AWS::Partition}:cloudwatch:${AWS::Region}"
                                    ":${AWS::AccountId}:alarm:*"
                                ),
                            )
                        ),
                    )
                ],
            ),
        )
    )
    t.add_resource(
        sns.SubscriptionResource(
            ids.Alarms.SUBSCRIPTION,
            Condition=ids.Alarms.HAS_EMAIL,
            TopicArn=topic.ref(),
            Protocol="email",
            Endpoint=email.ref(),
        )
    )
    return topic


def _probe_period(t: Template, cfg: Config, allowed: tuple[str, ...]) -> int | If:
    """The per-run alarms' Period for the ProbeSchedule value chosen at deploy time, one
    of ``allowed``.

    One condition per period longer than the fastest schedule's, each true for the
    schedules that need it; nested Fn::If picks the period (Mappings cannot be keyed
    by a schedule expression: their keys allow only letters, digits, "-" and ".").
    """
    periods: dict[int, list[str]] = {}
    for schedule in allowed:
        period = probe_alarm_period(cfg.alarms.period_seconds, PROBE_SCHEDULES[schedule])
        periods.setdefault(period, []).append(schedule)
    fastest, *slower = sorted(periods)
    value: int | If = fastest
    for period in slower:
        name = PROBE_PERIOD.format(period)
        matches = [Equals(Ref(ids.Probe.SCHEDULE), s) for s in periods[period]]
        t.add_condition(name, matches[0] if len(matches) == 1 else Or(*matches))
        value = If(name, period, value)
    return value
