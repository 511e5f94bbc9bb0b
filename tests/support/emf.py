"""Validator for CloudWatch Embedded Metric Format (EMF) log lines.

Follows the structure of the EMF specification ("Specification: Embedded metric format",
Amazon CloudWatch User Guide): a root object whose ``_aws`` metadata holds an integer
millisecond ``Timestamp`` and ``CloudWatchMetrics`` directives; every dimension and metric a
directive names is a member of the root object.
"""

from __future__ import annotations

import json
import math
from typing import Any

# MetricDatum units accepted by CloudWatch; a missing Unit means "None".
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
MAX_EVENT_BYTES = 256 * 1024  # a CloudWatch Logs event, which an EMF document must fit
MAX_NAME_CHARS = 255
MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
DIRECTIVE_MEMBERS = {"Namespace", "Dimensions", "Metrics"}
METRIC_MEMBERS = {"Name", "Unit", "StorageResolution"}


class EmfError(ValueError):
    """The line is not a valid EMF document; the message says which rule it breaks."""


def validate_emf(line: str) -> dict[str, Any]:
    """Return the parsed document, or raise EmfError naming the first broken rule."""
    if len(line.encode()) > MAX_EVENT_BYTES:
        raise EmfError(f"document is larger than {MAX_EVENT_BYTES} bytes")
    try:
        root = json.loads(line, parse_constant=_reject_constant)
    except ValueError as exc:
        raise EmfError(f"not a JSON document: {exc}") from None
    _require(isinstance(root, dict), "root is not a JSON object")
    meta = root.get("_aws")
    _require(isinstance(meta, dict), "root has no _aws object")
    timestamp = meta.get("Timestamp")
    _require(_is_int(timestamp) and timestamp >= 0, "_aws.Timestamp is not integer milliseconds")
    directives = meta.get("CloudWatchMetrics")
    _require(isinstance(directives, list), "_aws.CloudWatchMetrics is not an array")
    for index, directive in enumerate(directives):
        _check_directive(root, directive, f"_aws.CloudWatchMetrics[{index}]")
    document: dict[str, Any] = root
    return document


def _check_directive(root: dict[str, Any], directive: Any, where: str) -> None:
    _require(isinstance(directive, dict), f"{where} is not an object")
    extra = set(directive) - DIRECTIVE_MEMBERS
    _require(not extra, f"{where} has members outside the specification: {sorted(extra)}")
    namespace = directive.get("Namespace")
    _require(_is_name(namespace), f"{where}.Namespace is not a string of 1-255 characters")

    dimension_sets = directive.get("Dimensions")
    _require(
        isinstance(dimension_sets, list) and len(dimension_sets) > 0,
        f"{where}.Dimensions is not a non-empty array of dimension sets",
    )
    for set_index, dimension_set in enumerate(dimension_sets):
        here = f"{where}.Dimensions[{set_index}]"
        _require(isinstance(dimension_set, list), f"{here} is not an array")
        _require(
            len(dimension_set) <= MAX_DIMENSIONS_PER_SET,
            f"{here} has more than {MAX_DIMENSIONS_PER_SET} dimensions",
        )
        for key in dimension_set:
            _require(_is_name(key), f"{here} holds {key!r}, not a dimension name")
            _require(
                isinstance(root.get(key), str),
                f"dimension {key!r} is not a root member with a string value",
            )

    metrics = directive.get("Metrics")
    _require(isinstance(metrics, list), f"{where}.Metrics is not an array")
    _require(
        len(metrics) <= MAX_METRICS_PER_DIRECTIVE,
        f"{where}.Metrics has more than {MAX_METRICS_PER_DIRECTIVE} definitions",
    )
    for metric_index, metric in enumerate(metrics):
        here = f"{where}.Metrics[{metric_index}]"
        _require(isinstance(metric, dict), f"{here} is not an object")
        extra = set(metric) - METRIC_MEMBERS
        _require(not extra, f"{here} has members outside the specification: {sorted(extra)}")
        name = metric.get("Name")
        _require(_is_name(name), f"{here}.Name is not a string of 1-255 characters")
        if "Unit" in metric:
            _require(metric["Unit"] in UNITS, f"{here}.Unit {metric['Unit']!r} is not a unit")
        if "StorageResolution" in metric:
            _require(metric["StorageResolution"] in (1, 60), f"{here}.StorageResolution not 1/60")
        _require(name in root, f"metric {name!r} is not a root member")
        _check_value(name, root[name])


def _check_value(name: str, value: Any) -> None:
    if isinstance(value, list):
        # The specification caps arrays at 100; an empty one has nothing to publish.
        _require(
            0 < len(value) <= MAX_VALUES_PER_METRIC,
            f"metric {name!r} array must hold 1-{MAX_VALUES_PER_METRIC} values",
        )
        _require(all(map(_is_number, value)), f"metric {name!r} array holds a non-number")
    else:
        _require(_is_number(value), f"metric {name!r} is not a number")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise EmfError(message)


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _is_int(value: Any) -> bool:
    # bool is an int in Python but not a number in JSON.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= MAX_NAME_CHARS
