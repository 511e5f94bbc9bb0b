"""CloudWatch alarms on every way the service can be unhealthy, and their SNS topic.

Each alarm watches this stack's own resources (dimensions are references, never
literal names) and its description tells the person on call where to look first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import sns as sns_actions
from awacs.aws import Allow, ArnLike, Condition, PolicyDocument, Principal, Statement
from troposphere import Equals, GetAtt, If, Not, Or, Ref, Sub, Template, cloudwatch, sns

from .config import PROBE_SCHEDULES, Config, probe_alarm_period
from .ecs import Service
from .loadbalancer import LoadBalancer
from .params import GROUP_ALARMS, add_parameter
from .probe import SCHEDULE, SERVICE_DIMENSION, STACK_DIMENSION, Probe
from .scanner import skip_checks

__all__ = ["Alarms", "add_alarms"]

TOPIC = "AlarmTopic"
TOPIC_POLICY = "AlarmTopicPolicy"
EMAIL = "AlarmEmail"
HAS_EMAIL = "HasAlarmEmail"
SUBSCRIPTION = "AlarmEmailSubscription"
PROBE_PERIOD = "ProbeAlarmPeriod{}"  # condition: the schedule needs this period (s)

PROBE_FAILED_REQUESTS = "AlarmProbeFailedRequests"
PROBE_NO_INSTANCES = "AlarmProbeNoInstances"
PROBE_NOT_RUNNING = "AlarmProbeNotRunning"
PROBE_ERRORS = "AlarmProbeErrors"
PROBE_THROTTLES = "AlarmProbeThrottles"
LOAD_BALANCER_5XX = "AlarmLoadBalancer5xx"
TARGET_5XX = "AlarmTarget5xx"
UNHEALTHY_TARGETS = "AlarmUnhealthyTargets"
RESPONSE_TIME = "AlarmResponseTime"
RUNNING_TASKS = "AlarmRunningTasks"
SERVICE_CPU = "AlarmServiceCpu"
SERVICE_MEMORY = "AlarmServiceMemory"

GREATER_OR_EQUAL = "GreaterThanOrEqualToThreshold"
GREATER = "GreaterThanThreshold"
LESS = "LessThanThreshold"


@dataclass(frozen=True, eq=False)
class Alarms:
    """The alarm topic and the stack's alarms."""

    topic: sns.Topic
    """The SNS topic every alarm notifies (``AlarmEmail`` subscribes to it)."""
    alarms: tuple[cloudwatch.Alarm, ...]
    """The stack's own alarms."""


def _dims(**dimensions: Any) -> list[cloudwatch.MetricDimension]:
    return [cloudwatch.MetricDimension(Name=k, Value=v) for k, v in dimensions.items()]


def add_alarms(
    t: Template, cfg: Config, *, load_balancer: LoadBalancer, service: Service, probe: Probe
) -> Alarms:
    """Add the alarm topic, its policy and e-mail subscription, and the stack's alarms."""
    a = cfg.alarms
    email = add_parameter(
        t,
        EMAIL,
        group=GROUP_ALARMS,
        label="Alarm e-mail (optional)",
        description="Subscribes this address to the alarm topic; empty subscribes no one.",
        Type="String",
        Default=a.email,
        AllowedPattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$",
        ConstraintDescription="must be empty or an e-mail address",
    )
    t.add_condition(HAS_EMAIL, Not(Equals(email.ref(), "")))
    # No DisplayName: it is limited to 100 characters, which a stack name can exceed;
    # e-mail then comes from "AWS Notifications" and names the alarm and stack.
    topic = t.add_resource(sns.Topic(TOPIC))
    skip_checks(topic, {"CKV_AWS_26": (
        "CloudWatch cannot publish under the AWS managed SNS key; messages hold alarm states"
    )})  # fmt: skip
    t.add_resource(
        sns.TopicPolicy(
            TOPIC_POLICY,
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
                                Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}"
                                    ":${AWS::AccountId}:alarm:*"),
                            )
                        ),  # fmt: skip
                    )
                ],
            ),
        )
    )
    t.add_resource(
        sns.SubscriptionResource(
            SUBSCRIPTION,
            Condition=HAS_EMAIL,
            TopicArn=topic.ref(),
            Protocol="email",
            Endpoint=email.ref(),
        )
    )

    common = {
        "AlarmActions": [topic.ref()],
        "OKActions": [topic.ref()],
        "EvaluationPeriods": a.evaluation_periods,
        "DatapointsToAlarm": a.datapoints_to_alarm,
    }
    probe_dims = _dims(
        **{STACK_DIMENSION: Ref("AWS::StackName"), SERVICE_DIMENSION: probe.service_name}
    )
    function_dims = _dims(FunctionName=probe.function.ref())
    lb_name = GetAtt(load_balancer.load_balancer, "LoadBalancerFullName")
    tg_name = GetAtt(load_balancer.target_group, "TargetGroupFullName")
    lb_dims = _dims(LoadBalancer=lb_name)
    tg_dims = _dims(TargetGroup=tg_name, LoadBalancer=lb_name)
    service_dims = _dims(
        ClusterName=service.cluster.ref(), ServiceName=GetAtt(service.service, "Name")
    )

    # The probe runs once per schedule interval, so the per-run alarms take periods of
    # at least one interval: the window of evaluation_periods periods then holds at
    # least evaluation_periods runs, whatever schedule ProbeSchedule picks at deploy time.
    per_run = {"Period": _probe_period(t, cfg)}

    def alarm(logical_id: str, description: str, **props: Any) -> cloudwatch.Alarm:
        if "Metrics" not in props:  # a metric math alarm sets the period per query
            props.setdefault("Period", a.period_seconds)
        return t.add_resource(
            cloudwatch.Alarm(logical_id, AlarmDescription=description, **{**common, **props})
        )

    alarms = [
        alarm(
            PROBE_FAILED_REQUESTS,
            "Probe requests to tasks fail. Look first at the probe log group: one line per "
            "task with its error.",
            Namespace=probe.metric_namespace, MetricName="FailedRequests", Dimensions=probe_dims,
            Statistic="Sum", ComparisonOperator=GREATER_OR_EQUAL,
            Threshold=a.probe_failed_requests, TreatMissingData="notBreaching", **per_run,
        ),
        alarm(
            PROBE_NO_INSTANCES,
            "The probe finds no task in Cloud Map DNS. Look first at the ECS service events.",
            Namespace=probe.metric_namespace, MetricName="DiscoveredInstances",
            Dimensions=probe_dims, Statistic="Minimum", ComparisonOperator=LESS, Threshold=1,
            TreatMissingData="notBreaching", **per_run,
        ),
        # No data is the symptom here: a probe that stops running must alarm.
        alarm(
            PROBE_NOT_RUNNING,
            "The probe has not run: the service is unwatched. Look first at the schedule rule.",
            Namespace="AWS/Lambda", MetricName="Invocations", Dimensions=function_dims,
            Statistic="Sum", ComparisonOperator=LESS, Threshold=1, TreatMissingData="breaching",
            Period=a.probe_missing_minutes * 60, EvaluationPeriods=1, DatapointsToAlarm=1,
        ),
        alarm(
            PROBE_ERRORS,
            "The probe function itself fails. Look first at the probe log group for the error.",
            Namespace="AWS/Lambda", MetricName="Errors", Dimensions=function_dims,
            Statistic="Sum", ComparisonOperator=GREATER_OR_EQUAL, Threshold=1,
            TreatMissingData="notBreaching", **per_run,
        ),
        alarm(
            PROBE_THROTTLES,
            "The probe is throttled. Look first at the account's Lambda concurrent executions.",
            Namespace="AWS/Lambda", MetricName="Throttles", Dimensions=function_dims,
            Statistic="Sum", ComparisonOperator=GREATER_OR_EQUAL, Threshold=1,
            TreatMissingData="notBreaching", **per_run,
        ),
        alarm(
            LOAD_BALANCER_5XX,
            "The load balancer answers 5xx itself. Look first at the target group's health.",
            Namespace="AWS/ApplicationELB", MetricName="HTTPCode_ELB_5XX_Count",
            Dimensions=lb_dims, Statistic="Sum", ComparisonOperator=GREATER_OR_EQUAL,
            Threshold=a.alb_5xx_count, TreatMissingData="notBreaching",
        ),
        alarm(
            TARGET_5XX,
            "Tasks answer 5xx. Look first at the service log group for the failing requests.",
            Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
            Dimensions=tg_dims, Statistic="Sum", ComparisonOperator=GREATER_OR_EQUAL,
            Threshold=a.alb_5xx_count, TreatMissingData="notBreaching",
        ),
        alarm(
            UNHEALTHY_TARGETS,
            "Targets fail the health check. Look first at the target group's target health.",
            Namespace="AWS/ApplicationELB", MetricName="UnHealthyHostCount", Dimensions=tg_dims,
            Statistic="Maximum", ComparisonOperator=GREATER_OR_EQUAL, Threshold=1,
            TreatMissingData="notBreaching",
        ),
        alarm(
            RESPONSE_TIME,
            "p90 response time is degraded. Look first at the service CPU and task count.",
            Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime", Dimensions=tg_dims,
            ExtendedStatistic="p90", ComparisonOperator=GREATER,
            Threshold=a.response_time_seconds, TreatMissingData="notBreaching",
        ),
        alarm(
            RUNNING_TASKS,
            "Fewer tasks run than desired. Look first at the ECS service events.",
            Metrics=[
                _insights("desired", "DesiredTaskCount", service_dims, a.period_seconds),
                _insights("running", "RunningTaskCount", service_dims, a.period_seconds),
                cloudwatch.MetricDataQuery(
                    Id="missing", Expression="desired - running", Label="Tasks missing",
                    ReturnData=True,
                ),
            ],
            ComparisonOperator=GREATER, Threshold=0, TreatMissingData="notBreaching",
        ),
        alarm(
            SERVICE_CPU,
            "Service CPU saturates. Look first at the dashboard's request count.",
            Namespace="AWS/ECS", MetricName="CPUUtilization", Dimensions=service_dims,
            Statistic="Average", ComparisonOperator=GREATER, Threshold=a.cpu_percent,
            TreatMissingData="notBreaching",
        ),
        alarm(
            SERVICE_MEMORY,
            "Service memory saturates. Look first at the stopped tasks' reasons.",
            Namespace="AWS/ECS", MetricName="MemoryUtilization", Dimensions=service_dims,
            Statistic="Average", ComparisonOperator=GREATER, Threshold=a.memory_percent,
            TreatMissingData="notBreaching",
        ),
    ]  # fmt: skip
    return Alarms(topic=topic, alarms=tuple(alarms))


def _probe_period(t: Template, cfg: Config) -> int | If:
    """The per-run alarms' Period for the ProbeSchedule value chosen at deploy time.

    One condition per period longer than the fastest schedule's, each true for the
    schedules that need it; nested Fn::If picks the period (Mappings cannot be keyed
    by a schedule expression: their keys allow only letters, digits, "-" and ".").
    """
    allowed = [s for s in PROBE_SCHEDULES if s in t.parameters[SCHEDULE].AllowedValues]
    periods: dict[int, list[str]] = {}
    for schedule in allowed:
        period = probe_alarm_period(cfg.alarms.period_seconds, PROBE_SCHEDULES[schedule])
        periods.setdefault(period, []).append(schedule)
    fastest, *slower = sorted(periods)
    value: int | If = fastest
    for period in slower:
        name = PROBE_PERIOD.format(period)
        matches = [Equals(Ref(SCHEDULE), s) for s in periods[period]]
        t.add_condition(name, matches[0] if len(matches) == 1 else Or(*matches))
        value = If(name, period, value)
    return value


def _insights(
    query_id: str, name: str, dims: list[cloudwatch.MetricDimension], period: int
) -> cloudwatch.MetricDataQuery:
    """A Container Insights service metric, as a metric math input."""
    return cloudwatch.MetricDataQuery(
        Id=query_id,
        MetricStat=cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(
                Namespace="ECS/ContainerInsights", MetricName=name, Dimensions=dims
            ),
            Period=period,
            Stat="Average",
        ),
        ReturnData=False,
    )
