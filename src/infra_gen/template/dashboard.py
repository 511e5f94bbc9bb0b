"""A CloudWatch dashboard of the stack: probe, load balancer, service and function."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from troposphere import FindInMap, GetAtt, Output, Ref, Sub, Template, cloudwatch, encode_to_dict

from . import ids
from .loadbalancer import OTHER_PARTITION_REGIONS, LoadBalancer
from .metrics import Metric
from .probe import SERVICE_DIMENSION, STACK_DIMENSION, Probe
from .service import Service

__all__ = ["Dashboard", "add_dashboard"]

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
    widgets: list[dict[str, Any]] = field(default_factory=list)
    """The body's widgets, in order: the body is written from them when the template
    renders."""
    variables: dict[str, Any] = field(default_factory=dict)
    """The body's ``Fn::Sub`` variables: name -> the reference it stands for."""

    def add_service(self, t: Template, service: Service, *, scope: str) -> None:
        """Add two widgets of another service below the stack's own, titled with ``scope``.

        Its target group's requests, 5xx and p90 response time; its tasks' CPU, memory,
        desired and running count (a service without a route: the second one alone).

        Args:
            t: the template the dashboard is in.
            service: the other service.
            scope: the title's prefix, e.g. ``Api``.

        Raises:
            ValueError: the dashboard is not in ``t``.

        Template cost: about 1 KB of compact JSON.
        """
        if t.resources.get(self.dashboard.title) is not self.dashboard:
            raise ValueError("add_service: the dashboard is not in this template")
        variables, right = self.variables, "right"
        widgets = (
            []
            if service.route is None
            else [
                _Widget(
                    f"{scope}: requests, 5xx, latency",
                    [
                        _row(service.target_metric("RequestCount"), variables),
                        _row(service.target_metric("HTTPCode_Target_5XX_Count"), variables),
                        _row(
                            service.target_metric("TargetResponseTime", "p90"),
                            variables,
                            yAxis=right,
                        ),
                    ],
                ),
            ]
        )
        widgets.append(
            _Widget(
                f"{scope}: CPU, memory, tasks",
                [
                    _row(service.metric("CPUUtilization"), variables),
                    _row(service.metric("MemoryUtilization"), variables),
                    _row(service.insights_metric("DesiredTaskCount"), variables, yAxis=right),
                    _row(service.insights_metric("RunningTaskCount"), variables, yAxis=right),
                ],
            )
        )
        # No x, y or height: CloudWatch's defaults (the next free place, 6 high) cost no bytes.
        self.widgets.extend(_widget(w, width=12) for w in widgets)


@dataclass(frozen=True, eq=False)
class _Body:
    """A dashboard body, written from its widgets when the template renders: troposphere
    renders any object with ``to_dict()`` at output time."""

    widgets: list[dict[str, Any]]

    def to_dict(self) -> str:
        return _dumps({"widgets": self.widgets})


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
        out.append(
            [
                "."
                if i != 1 and i < len(previous) and not isinstance(v, dict) and v == previous[i]
                else v
                for i, v in enumerate(row)
            ]
        )
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


def _row(metric: Metric, variables: dict[str, Any], **options: Any) -> list[Any]:
    """A handle's metric as a row of the body, its dimensions as placeholders."""
    dims = {name: _placeholder(value, variables) for name, value in metric.dimensions}
    return _metric(metric.namespace, metric.name, dims, stat=metric.statistic, **options)


def _placeholder(value: Any, variables: dict[str, Any]) -> str:
    """``value`` (a ``Ref`` or ``GetAtt``) as a ``Fn::Sub`` placeholder: the body's
    variable that holds it (``${LoadBalancer}``), else ``${<ID>}`` or ``${<ID>.<attribute>}``,
    which need no variable."""
    data = encode_to_dict(value)
    for name, held in variables.items():
        if encode_to_dict(held) == data:
            return "${" + name + "}"
    reference: str = data["Ref"] if "Ref" in data else ".".join(data["Fn::GetAtt"])
    return "${" + reference + "}"


def _widget(w: _Widget, **place: int) -> dict[str, Any]:
    """A metric widget of ``w``'s rows at ``place`` (``x``, ``y``, ``width``, ``height``:
    CloudWatch's defaults are the next free place, 6 high and 6 wide)."""
    return {
        "type": "metric",
        **place,
        "properties": {
            "title": w.title,
            "region": "${AWS::Region}",
            "period": 60,
            **_widget_stat(w.metrics),
            "metrics": _shorthand(w.metrics),
        },
    }


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _widgets(metric_namespace: str) -> list[dict[str, Any]]:
    # ${...} are Fn::Sub variables: the stack's own resource names.
    probe = {STACK_DIMENSION: "${AWS::StackName}", SERVICE_DIMENSION: "${ProbeService}"}
    lb = {"LoadBalancer": "${LoadBalancer}"}
    tg = {"TargetGroup": "${TargetGroup}", "LoadBalancer": "${LoadBalancer}"}
    svc = {"ClusterName": "${Cluster}", "ServiceName": "${Service}"}
    fn = {"FunctionName": "${Function}"}
    right = "right"
    widgets = [
        _Widget(
            "Probe: requests and latency",
            [
                _metric(metric_namespace, "SuccessfulRequests", probe, stat="Sum"),
                _metric(metric_namespace, "FailedRequests", probe, stat="Sum"),
                _metric(metric_namespace, "DiscoveredInstances", probe, stat="Minimum"),
                _metric(metric_namespace, "Latency", probe, stat="p90", yAxis=right),
            ],
        ),
        _Widget(
            "Load balancer: requests, 5xx, latency",
            [
                _metric("AWS/ApplicationELB", "RequestCount", lb, stat="Sum"),
                _metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, stat="Sum"),
                _metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", tg, stat="Sum"),
                _metric("AWS/ApplicationELB", "TargetResponseTime", tg, stat="p90", yAxis=right),
            ],
        ),
        _Widget(
            "Service: CPU, memory, tasks",
            [
                _metric("AWS/ECS", "CPUUtilization", svc, stat="Average"),
                _metric("AWS/ECS", "MemoryUtilization", svc, stat="Average"),
                # Desired follows scaling; running below it means tasks fail to start.
                _metric(
                    "ECS/ContainerInsights", "DesiredTaskCount", svc, stat="Average", yAxis=right
                ),
                _metric(
                    "ECS/ContainerInsights", "RunningTaskCount", svc, stat="Average", yAxis=right
                ),
            ],
        ),
        _Widget(
            "Probe function: invocations, errors, duration",
            [
                _metric("AWS/Lambda", "Invocations", fn, stat="Sum"),
                _metric("AWS/Lambda", "Errors", fn, stat="Sum"),
                _metric("AWS/Lambda", "Duration", fn, stat="p90", yAxis=right),
            ],
        ),
    ]
    return [
        _widget(w, x=12 * (i % 2), y=6 * (i // 2), width=12, height=6)
        for i, w in enumerate(widgets)
    ]


def add_dashboard(
    t: Template, *, load_balancer: LoadBalancer, service: Service, probe: Probe
) -> Dashboard:
    """Add the dashboard (probe, load balancer, service, probe function) and its URL.

    Args:
        t: the template it adds to.
        load_balancer: its load balancer and target group metrics.
        service: its ECS and Container Insights metrics.
        probe: its custom and Lambda metrics.

    Returns:
        The dashboard's handle, which keeps its widgets.

    Template cost: about 3.1 KB of compact JSON, with its Mapping and Rule.
    """
    widgets = _widgets(probe.metric_namespace)
    variables: dict[str, Any] = {
        "ProbeService": probe.service_name,
        "LoadBalancer": GetAtt(load_balancer.load_balancer, "LoadBalancerFullName"),
        "TargetGroup": GetAtt(load_balancer.target_group, "TargetGroupFullName"),
        "Cluster": service.cluster.ref(),
        "Service": GetAtt(service.service, "Name"),
        "Function": probe.function.ref(),
    }
    dashboard = t.add_resource(
        cloudwatch.Dashboard(
            ids.Dashboard.DASHBOARD, DashboardBody=Sub(_Body(widgets), **variables)
        )
    )
    t.add_mapping(CONSOLES, {p: {"Domain": d} for p, d in CONSOLE_DOMAINS.items()})
    # Refused before any resource changes, with a message: a partition without a known
    # console domain, or a GovCloud or China Region whose ELB log account is unknown.
    t.add_rule(
        SUPPORTED_REGION,
        {
            "Assertions": [
                {
                    "Assert": {
                        "Fn::Or": [
                            {"Fn::Equals": [Ref("AWS::Partition"), "aws"]},
                            {"Fn::Contains": [list(OTHER_PARTITION_REGIONS), Ref("AWS::Region")]},
                        ]
                    },
                    "AssertDescription": "Served: the aws partition, "
                    + ", ".join(OTHER_PARTITION_REGIONS),
                }
            ]
        },
    )
    url = t.add_output(
        Output(
            ids.Dashboard.DASHBOARD_URL,
            Description="CloudWatch dashboard of the stack",
            Value=Sub(
                "https://${Console}/cloudwatch/home?region=${AWS::Region}"
                "#dashboards:name=${" + ids.Dashboard.DASHBOARD + "}",
                Console=FindInMap(CONSOLES, Ref("AWS::Partition"), "Domain"),
            ),
        )
    )
    return Dashboard(dashboard=dashboard, url=url, widgets=widgets, variables=variables)
