"""Metric definitions the handles hand out, so an alarm or a widget never restates
a namespace or a dimension.

``LoadBalancer.metric("RequestCount")`` returns a :class:`Metric` naming this
stack's load balancer; :meth:`infra_gen.Alarms.add_alarm` turns one into an alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from troposphere import cloudwatch, encode_to_dict

from ..errors import ConfigError, shown

__all__ = ["Metric", "MetricMath"]

# CloudWatch's percentile and trimmed statistics (p90, tm99, ...) go to
# ExtendedStatistic; the five basic ones to Statistic.
_EXTENDED = re.compile(r"^(p|tm|wm|tc|ts|pr)[0-9(]")
_BASIC = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
# The extended ones as CloudWatch's "Statistics definitions" write them: p99.9 and tm90
# (a percentage, 0-100), tm(10%:90%) (percentages), TM(2:5) and PR(:0.5) (values).
_NUMBER = r"[0-9]+(\.[0-9]+)?"
_SHORT = re.compile(rf"(p|tm|wm|tc|ts)(?P<n>{_NUMBER})")
_PERCENTS = re.compile(rf"(tm|wm|tc|ts)\((?:(?P<a>{_NUMBER})%)?:(?:(?P<b>{_NUMBER})%)?\)")
_VALUES = re.compile(rf"(TM|WM|TC|TS|PR)\((?P<a>-?{_NUMBER})?:(?P<b>-?{_NUMBER})?\)", re.IGNORECASE)
# A metric math query ID: a lower-case letter, then letters, digits and underscores.
_QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]{0,254}")
_EXPRESSION_CHARS = 2048


def _extended(stat: str) -> bool:
    """Whether ``stat`` is an extended statistic CloudWatch takes."""
    short = _SHORT.fullmatch(stat)
    if short:
        return float(short["n"]) <= 100
    bounds = _PERCENTS.fullmatch(stat) or _VALUES.fullmatch(stat)
    if not bounds or (bounds["a"] is None and bounds["b"] is None):
        return False
    low, high = (None if v is None else float(v) for v in (bounds["a"], bounds["b"]))
    if bounds.re is _PERCENTS and any(v is not None and v > 100 for v in (low, high)):
        return False
    return low is None or high is None or low < high


def _names(value: Any) -> set[str]:
    """The resources and Parameters a rendered value names (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for inner in value:
            found |= _names(inner)
    elif isinstance(value, dict):
        for fn, args in value.items():
            if fn == "Ref" and isinstance(args, str):
                found.add(args)
            elif fn == "Fn::GetAtt" and isinstance(args, list) and args:
                found.add(str(args[0]))
            elif fn == "Fn::Sub":
                text = args if isinstance(args, str) else args[0]
                local = {} if isinstance(args, str) else args[1]
                found |= {
                    v.split(".")[0]
                    for v in re.findall(r"\$\{(?!!)([^}]*)\}", str(text))
                    if v not in local
                }
                found |= _names(local)
            else:
                found |= _names(args)
    return {n for n in found if not n.startswith("AWS::")}


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
        if not (isinstance(stat, str) and (stat in _BASIC or _extended(stat))):
            raise ConfigError(
                "statistic",
                f"{shown(stat)} is not allowed; allowed: "
                f"{', '.join(_BASIC)} or a percentile such as p90",
            )

    def names(self) -> set[str]:
        """The resources and Parameters its dimensions name."""
        return _names([encode_to_dict(value) for _, value in self.dimensions])

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

    def __post_init__(self) -> None:
        # CloudWatch refuses these only when the alarm is created, at deploy time.
        if not (isinstance(self.expression, str) and 0 < len(self.expression) <= 2048):
            raise ConfigError(
                "expression",
                f"{shown(self.expression)} is not allowed; allowed: 1-{_EXPRESSION_CHARS:,} "
                "characters of metric math, e.g. desired - running",
            )
        if not isinstance(self.label, str):
            raise ConfigError("label", f"{shown(self.label)} is not allowed; allowed: text")
        if not isinstance(self.inputs, tuple | list) or not self.inputs:
            raise ConfigError(
                "inputs", f"{shown(self.inputs)} is not allowed; allowed: (query ID, Metric) pairs"
            )
        ids = [(self.result_id, "result_id")]
        for pair in self.inputs:
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], Metric)):
                raise ConfigError(
                    "inputs", f"{shown(pair)} is not allowed; allowed: a (query ID, Metric) pair"
                )
            ids.append((pair[0], "inputs"))
        seen = set()
        for query_id, key in ids:
            if not (isinstance(query_id, str) and _QUERY_ID.fullmatch(query_id)):
                raise ConfigError(
                    key,
                    f"{shown(query_id)} is not a query ID; allowed: a lower-case letter, then "
                    "up to 254 letters, digits and underscores",
                )
            if query_id in seen:
                raise ConfigError(key, f"{query_id} is the ID of two queries; allowed: once each")
            seen.add(query_id)

    def names(self) -> set[str]:
        """The resources and Parameters its inputs' dimensions name."""
        return set().union(*(metric.names() for _, metric in self.inputs))

    def queries(self, period: Any) -> list[cloudwatch.MetricDataQuery]:
        """The alarm's ``Metrics``: every input over ``period``, then the expression."""
        return [metric.query(query_id, period) for query_id, metric in self.inputs] + [
            cloudwatch.MetricDataQuery(
                Id=self.result_id, Expression=self.expression, Label=self.label, ReturnData=True
            )
        ]
