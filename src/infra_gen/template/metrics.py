"""Metric definitions the handles hand out, so an alarm or a widget never restates
a namespace or a dimension.

``LoadBalancer.metric("RequestCount")`` returns a :class:`Metric` naming this
stack's load balancer; :meth:`infra_gen.Alarms.add_alarm` turns one into an alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from troposphere import cloudwatch

from ..errors import ConfigError, shown

__all__ = ["Metric", "MetricMath"]

# CloudWatch's percentile and trimmed statistics (p90, tm99, ...) go to
# ExtendedStatistic; the five basic ones to Statistic.
_EXTENDED = re.compile(r"^(p|tm|wm|tc|ts|pr)[0-9(]")
_BASIC = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
# What the extended ones are written with: p99.9, tm(10%:90%), PR(:0.5), ...
_EXTENDED_TEXT = re.compile(r"[A-Za-z0-9.:%()]+")


@dataclass(frozen=True, eq=False)
class Metric:
    """One CloudWatch metric of the stack with the statistic to read it by."""

    namespace: str
    """E.g. ``AWS/ApplicationELB``, or the probe's own namespace."""
    name: str
    """The metric name, e.g. ``HTTPCode_Target_5XX_Count``."""
    dimensions: tuple[tuple[str, Any], ...]
    """(name, value) pairs in order; values are references to this stack's resources."""
    statistic: str
    """``Sum``, ``Average``, ``Minimum``, ``Maximum``, ``SampleCount`` or a percentile
    such as ``p90``."""

    def __post_init__(self) -> None:
        # Here, where a handle's helper is called: an alarm would take a name that is not
        # text only to fail in troposphere, and a statistic CloudWatch lacks only to fail
        # at deploy time.
        if not (
            isinstance(self.name, str) and 0 < len(self.name) <= 255 and self.name.isprintable()
        ):
            raise ConfigError(
                "name",
                f"{shown(self.name)} is not a metric name; allowed: 1-255 "
                "printable characters, e.g. CPUUtilization",
            )
        stat = self.statistic
        if not (
            isinstance(stat, str)
            and (stat in _BASIC or (_EXTENDED.match(stat) and _EXTENDED_TEXT.fullmatch(stat)))
        ):
            raise ConfigError(
                "statistic",
                f"{shown(stat)} is not allowed; allowed: "
                f"{', '.join(_BASIC)} or a percentile such as p90",
            )

    def with_statistic(self, statistic: str) -> Metric:
        """The same metric read by another statistic."""
        return replace(self, statistic=statistic)

    def alarm_properties(self) -> dict[str, Any]:
        """``AWS::CloudWatch::Alarm`` properties that select this metric and statistic."""
        props: dict[str, Any] = {"Namespace": self.namespace, "MetricName": self.name}
        if self.dimensions:
            props["Dimensions"] = self._dimensions()
        key = "ExtendedStatistic" if _EXTENDED.match(self.statistic) else "Statistic"
        props[key] = self.statistic
        return props

    def query(self, query_id: str, period: Any) -> cloudwatch.MetricDataQuery:
        """This metric as a metric math input (``ReturnData`` false) over ``period``."""
        return cloudwatch.MetricDataQuery(
            Id=query_id,
            MetricStat=cloudwatch.MetricStat(
                Metric=cloudwatch.Metric(
                    Namespace=self.namespace, MetricName=self.name, Dimensions=self._dimensions()
                ),
                Period=period,
                Stat=self.statistic,
            ),
            ReturnData=False,
        )

    def _dimensions(self) -> list[cloudwatch.MetricDimension]:
        return [cloudwatch.MetricDimension(Name=k, Value=v) for k, v in self.dimensions]


@dataclass(frozen=True, eq=False)
class MetricMath:
    """A metric math expression over named :class:`Metric` inputs, for an alarm."""

    expression: str
    """E.g. ``desired - running``, naming the inputs by their IDs."""
    label: str
    """The result's label."""
    inputs: tuple[tuple[str, Metric], ...]
    """(query ID, metric) pairs; IDs start with a lower-case letter."""
    result_id: str = "result"
    """The query ID of the expression itself."""

    def queries(self, period: Any) -> list[cloudwatch.MetricDataQuery]:
        """The alarm's ``Metrics``: every input over ``period``, then the expression."""
        return [metric.query(query_id, period) for query_id, metric in self.inputs] + [
            cloudwatch.MetricDataQuery(
                Id=self.result_id, Expression=self.expression, Label=self.label, ReturnData=True
            )
        ]
