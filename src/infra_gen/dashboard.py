"""A CloudWatch dashboard of the stack: probe, load balancer, service and function."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from troposphere import FindInMap, GetAtt, Output, Ref, Sub, Template, cloudwatch

from .ecs import Service
from .loadbalancer import OTHER_PARTITION_REGIONS, LoadBalancer
from .probe import SERVICE_DIMENSION, STACK_DIMENSION, Probe

__all__ = ["Dashboard", "add_dashboard"]

DASHBOARD = "Dashboard"
DASHBOARD_URL = "DashboardUrl"
CONSOLES = "ConsoleDomains"
SUPPORTED_REGION = "SupportedRegion"

# The AWS Management Console's domain per partition; the template serves these only.
CONSOLE_DOMAINS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


@dataclass(frozen=True, eq=False)
class Dashboard:
    """The stack's CloudWatch dashboard and the Output that links to it."""

    dashboard: cloudwatch.Dashboard
    """The dashboard resource (its body is a ``Fn::Sub`` over the stack's names)."""
    url: Output
    """``DashboardUrl``: the dashboard in the console of the stack's partition."""


@dataclass(frozen=True)
class _Widget:
    title: str
    metrics: list[list[Any]]


def _metric(namespace: str, name: str, dims: dict[str, str], **options: Any) -> list[Any]:
    row: list[Any] = [namespace, name]
    for key, value in dims.items():
        row += [key, value]
    return row + ([options] if options else [])


def _shorthand(rows: list[list[Any]]) -> list[list[Any]]:
    """CloudWatch's "." shorthand: repeat the previous row's value at the same position.

    It keeps the dashboard body, and so the template, small.
    """
    out = [rows[0]]
    for previous, row in zip(rows, rows[1:], strict=False):
        out.append([
            "." if i != 1 and i < len(previous) and not isinstance(v, dict) and v == previous[i]
            else v
            for i, v in enumerate(row)
        ])  # fmt: skip
    return out


def _widget_stat(rows: list[list[Any]]) -> dict[str, str]:
    """The widget's default statistic: its metrics' most common one, dropped from those
    rows (CloudWatch's own default is Average, which needs no entry). Small bodies keep
    the template within its size limit."""
    stats = [str(row[-1].get("stat")) for row in rows if isinstance(row[-1], dict)]
    common = max(sorted(set(stats)), key=stats.count)
    for row in rows:
        if isinstance(row[-1], dict) and row[-1].get("stat") == common:
            del row[-1]["stat"]
            if not row[-1]:
                row.pop()
    return {} if common == "Average" else {"stat": common}


def _body(metric_namespace: str) -> str:
    # ${...} are Fn::Sub variables: the stack's own resource names.
    probe = {STACK_DIMENSION: "${AWS::StackName}", SERVICE_DIMENSION: "${ProbeService}"}
    lb = {"LoadBalancer": "${LoadBalancer}"}
    tg = {"TargetGroup": "${TargetGroup}", "LoadBalancer": "${LoadBalancer}"}
    svc = {"ClusterName": "${Cluster}", "ServiceName": "${Service}"}
    fn = {"FunctionName": "${Function}"}
    right = "right"
    widgets = [
        _Widget("Probe: requests and latency", [
            _metric(metric_namespace, "SuccessfulRequests", probe, stat="Sum"),
            _metric(metric_namespace, "FailedRequests", probe, stat="Sum"),
            _metric(metric_namespace, "DiscoveredInstances", probe, stat="Minimum"),
            _metric(metric_namespace, "Latency", probe, stat="p90", yAxis=right),
        ]),
        _Widget("Load balancer: requests, 5xx, latency", [
            _metric("AWS/ApplicationELB", "RequestCount", lb, stat="Sum"),
            _metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, stat="Sum"),
            _metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", tg, stat="Sum"),
            _metric("AWS/ApplicationELB", "TargetResponseTime", tg, stat="p90", yAxis=right),
        ]),
        _Widget("Service: CPU, memory, tasks", [
            _metric("AWS/ECS", "CPUUtilization", svc, stat="Average"),
            _metric("AWS/ECS", "MemoryUtilization", svc, stat="Average"),
            # Desired follows scaling; running below it means tasks fail to start.
            _metric("ECS/ContainerInsights", "DesiredTaskCount", svc, stat="Average", yAxis=right),
            _metric("ECS/ContainerInsights", "RunningTaskCount", svc, stat="Average", yAxis=right),
        ]),
        _Widget("Probe function: invocations, errors, duration", [
            _metric("AWS/Lambda", "Invocations", fn, stat="Sum"),
            _metric("AWS/Lambda", "Errors", fn, stat="Sum"),
            _metric("AWS/Lambda", "Duration", fn, stat="p90", yAxis=right),
        ]),
    ]  # fmt: skip
    body = {
        "widgets": [
            {
                "type": "metric",
                "x": 12 * (i % 2),
                "y": 6 * (i // 2),
                "width": 12,
                "height": 6,
                "properties": {
                    "title": w.title,
                    "region": "${AWS::Region}",
                    "period": 60,
                    **_widget_stat(w.metrics),
                    "metrics": _shorthand(w.metrics),
                },
            }
            for i, w in enumerate(widgets)
        ]
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def add_dashboard(
    t: Template, *, load_balancer: LoadBalancer, service: Service, probe: Probe
) -> Dashboard:
    """Add the dashboard (probe, load balancer, service, probe function) and its URL."""
    dashboard = t.add_resource(
        cloudwatch.Dashboard(
            DASHBOARD,
            DashboardBody=Sub(
                _body(probe.metric_namespace),
                ProbeService=probe.service_name,
                LoadBalancer=GetAtt(load_balancer.load_balancer, "LoadBalancerFullName"),
                TargetGroup=GetAtt(load_balancer.target_group, "TargetGroupFullName"),
                Cluster=service.cluster.ref(),
                Service=GetAtt(service.service, "Name"),
                Function=probe.function.ref(),
            ),
        )
    )
    t.add_mapping(CONSOLES, {p: {"Domain": d} for p, d in CONSOLE_DOMAINS.items()})
    # Refused before any resource changes, with a message: a partition without a known
    # console domain, or a GovCloud or China Region whose ELB log account is unknown.
    t.add_rule(SUPPORTED_REGION, {"Assertions": [{
        "Assert": {"Fn::Or": [
            {"Fn::Equals": [Ref("AWS::Partition"), "aws"]},
            {"Fn::Contains": [list(OTHER_PARTITION_REGIONS), Ref("AWS::Region")]},
        ]},
        "AssertDescription": "Served: the aws partition, " + ", ".join(OTHER_PARTITION_REGIONS),
    }]})  # fmt: skip
    url = t.add_output(
        Output(
            DASHBOARD_URL,
            Description="CloudWatch dashboard of the stack",
            Value=Sub(
                "https://${Console}/cloudwatch/home?region=${AWS::Region}"
                "#dashboards:name=${" + DASHBOARD + "}",
                Console=FindInMap(CONSOLES, Ref("AWS::Partition"), "Domain"),
            ),
        )
    )
    return Dashboard(dashboard=dashboard, url=url)
