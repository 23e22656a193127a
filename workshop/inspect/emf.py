"""Parse and validate CloudWatch embedded metric format (EMF) log lines, one line at a time.

Why a module of its own: the specification (units, dimension sets, the forms
of values, what makes a line a problem) is the part of `workshop.inspect.metrics`
that knows nothing of invocations or of the stack: lines in, data out.
An EMF log event, as Powertools Metrics prints it:

    {"_aws": {"Timestamp": 1795704693495,
              "CloudWatchMetrics": [{"Namespace": "Workshop",
                                     "Dimensions": [["service"]],
                                     "Metrics": [{"Name": "OrderPlaced", "Unit": "Count"}]}]},
     "service": "order-saga", "OrderPlaced": [1.0], "order_id": "o-1"}

Every metric of a directive is one data point per value (a number, a list of
numbers, or a ``{"Values": [...], "Counts": [...]}`` distribution) in every
dimension set of that directive (none: one series without dimensions), under
the directive's namespace. Root keys that are neither metrics nor dimensions
are metadata (log-only).

What counts as a problem rather than noise: a line that is not JSON, or JSON
without ``_aws``, is an ordinary log line and is ignored. A line that mentions
``"_aws"`` claims to be EMF: if it is not valid JSON, if ``_aws`` is not a
top-level key of the log event (an EMF object passed to a logger, or printed
after a prefix), or if the ``_aws`` structure breaks the specification, it is
reported as an ``EmfProblem`` and none of its metrics are counted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# CloudWatch's units (the StandardUnit enumeration; Powertools' MetricUnit has the same values).
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds",
        "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
        "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
        "Percent", "Count",
        "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
        "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
        "Count/Second", "None",
    }
)  # fmt: skip
NO_UNIT = "None"  # what CloudWatch records when a metric definition has no Unit
MAX_DIMENSIONS = 30  # keys in one dimension set (EMF specification)
MAX_VALUES = 100  # values in one metric's array (EMF specification)
_EMF_MARK = '"_aws"'
_PREVIEW_CHARS = 200


# --------------------------------------------------------------------- model
@dataclass(frozen=True)
class MetricPoint:
    """One metric of one EMF record in one of its dimension sets, with its values."""

    namespace: str
    name: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]  # (key, value), sorted by key
    values: tuple[float, ...]


@dataclass
class EmfRecord:
    """A valid EMF log event: its timestamp (ms), metric points and metadata."""

    timestamp: int | float
    points: list[MetricPoint]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class EmfProblem:
    """A log line that claims to be EMF but is not valid: none of its metrics are counted."""

    kind: str  # "parse" (not JSON / not a top-level EMF object) | "validation" (bad _aws structure)
    reasons: list[str]
    text: str  # the line, shortened
    request_id: str | None = None

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)



# ------------------------------------------------------------------- parsing
def _preview(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _values(name: str, raw: Any) -> tuple[tuple[float, ...], str | None]:
    """A metric member's values, or why they are not valid.

    A number, a list of numbers, or the distribution form AWS's OpenTelemetry
    exporters print: ``{"Values": [...], "Counts": [...], "Sum": .., ...}``,
    where each value occurred Counts[i] times (it becomes that many data points).
    """
    counts: list[Any] | None = None
    if isinstance(raw, dict):
        items, counts = raw.get("Values"), raw.get("Counts")
        if not isinstance(items, list):
            return (), f"metric {name!r} is an object without a Values list"
        if counts is not None and (not isinstance(counts, list) or len(counts) != len(items)):
            return (), f"metric {name!r} has Counts that do not match its Values"
    else:
        items = raw if isinstance(raw, list) else [raw]
    if not items:
        return (), f"metric {name!r} has an empty list of values"
    if len(items) > MAX_VALUES:
        return (), f"metric {name!r} has {len(items)} values (at most {MAX_VALUES})"
    for item in items:
        if not _is_number(item):
            return (), f"metric {name!r} has a value that is not a number: {item!r}"
        if not math.isfinite(item):
            return (), f"metric {name!r} has a value that is not finite: {item!r}"
    if counts is None:
        return tuple(float(v) for v in items), None
    if not all(_is_number(c) and c >= 0 and float(c).is_integer() for c in counts):
        return (), f"metric {name!r} has Counts that are not whole numbers >= 0"
    return tuple(float(v) for v, c in zip(items, counts) for _ in range(int(c))), None


def validate_emf(document: Mapping[str, Any]) -> tuple[list[MetricPoint], list[str]]:
    """The metric points of one EMF document, and every way it breaks the specification."""
    reasons: list[str] = []
    points: list[MetricPoint] = []
    meta = document.get("_aws")
    if not isinstance(meta, dict):
        return [], ["_aws is not an object"]
    timestamp = meta.get("Timestamp")
    if timestamp is None:
        reasons.append("_aws.Timestamp is missing")
    elif not _is_number(timestamp):
        reasons.append(f"_aws.Timestamp is not a number of milliseconds: {timestamp!r}")
    directives = meta.get("CloudWatchMetrics")
    if directives is None:
        return [], [*reasons, "_aws.CloudWatchMetrics is missing"]
    if not isinstance(directives, list):
        return [], [*reasons, "_aws.CloudWatchMetrics is not a list"]
    for index, directive in enumerate(directives):
        where = f"CloudWatchMetrics[{index}]"
        if not isinstance(directive, dict):
            reasons.append(f"{where} is not an object")
            continue
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not namespace:
            reasons.append(f"{where}.Namespace is missing or not a non-empty string")
        dimension_sets = directive.get("Dimensions")
        resolved_sets: list[tuple[tuple[str, str], ...]] = []
        if dimension_sets is None or dimension_sets == []:
            resolved_sets.append(())  # no dimension set: the metrics are published without dimensions
        elif not isinstance(dimension_sets, list):
            reasons.append(f"{where}.Dimensions is not a list of dimension sets")
        else:
            for set_index, keys in enumerate(dimension_sets):
                set_where = f"{where}.Dimensions[{set_index}]"
                if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                    reasons.append(f"{set_where} is not a list of dimension names")
                    continue
                if len(keys) > MAX_DIMENSIONS:
                    reasons.append(f"{set_where} has {len(keys)} dimensions (at most {MAX_DIMENSIONS})")
                    continue
                pairs: list[tuple[str, str]] = []
                for key in keys:
                    if key not in document:
                        reasons.append(f"dimension {key!r} has no value at the top level of the log event")
                    elif not isinstance(document[key], str):
                        reasons.append(f"dimension {key!r} has a value that is not a string: {document[key]!r}")
                    else:
                        pairs.append((key, document[key]))
                if len(pairs) == len(keys):
                    resolved_sets.append(tuple(sorted(set(pairs))))
        definitions = directive.get("Metrics")
        if not isinstance(definitions, list):
            reasons.append(f"{where}.Metrics is missing or not a list")
            continue
        for definition in definitions:
            if not isinstance(definition, dict) or not isinstance(definition.get("Name"), str) or not definition["Name"]:
                reasons.append(f"{where}.Metrics has an entry without a Name: {definition!r}")
                continue
            name = definition["Name"]
            unit = definition.get("Unit", NO_UNIT)
            if not isinstance(unit, str) or unit not in UNITS:
                reasons.append(f"metric {name!r} has an unknown unit {unit!r}")
            resolution = definition.get("StorageResolution")
            if resolution is not None and resolution not in (1, 60):
                reasons.append(f"metric {name!r} has StorageResolution {resolution!r} (1 or 60)")
            if name not in document:
                reasons.append(f"metric {name!r} has no value at the top level of the log event")
                continue
            values, problem = _values(name, document[name])
            if problem:
                reasons.append(problem)
                continue
            if isinstance(namespace, str) and namespace:
                points.extend(MetricPoint(namespace, name, str(unit), dims, values) for dims in resolved_sets)
    return (points if not reasons else []), reasons


def parse_emf_line(line: str, request_id: str | None = None) -> EmfRecord | EmfProblem | None:
    """An EMF record, a problem (the line claims EMF and is not valid), or None (an ordinary line)."""
    stripped = line.strip()
    claims = _EMF_MARK in stripped
    if not stripped.startswith("{"):
        if claims and "{" in stripped:
            return EmfProblem(
                "parse",
                ["the EMF object does not start the log event (text before it): CloudWatch reads EMF only from a log event that is one JSON object"],
                _preview(line),
                request_id,
            )
        return None
    try:
        document = json.loads(stripped)
    except ValueError as exc:
        return EmfProblem("parse", [f"not valid JSON: {exc}"], _preview(line), request_id) if claims else None
    if not isinstance(document, dict):
        return None
    if "_aws" not in document:
        if claims:
            return EmfProblem(
                "parse",
                ["_aws is not a top-level key of the log event (an EMF object passed to a logger instead of printed?)"],
                _preview(line),
                request_id,
            )
        return None
    points, reasons = validate_emf(document)
    if reasons:
        return EmfProblem("validation", reasons, _preview(line), request_id)
    used = {p.name for p in points} | {k for p in points for k, _ in p.dimensions} | {"_aws"}
    metadata = {k: v for k, v in document.items() if k not in used}
    return EmfRecord(timestamp=document["_aws"]["Timestamp"], points=points, metadata=metadata)


def parse_emf_lines(lines: Iterable[str], request_id: str | None = None) -> tuple[list[EmfRecord], list[EmfProblem]]:
    """The EMF records among log lines, and the lines that claim EMF but are not valid."""
    records: list[EmfRecord] = []
    problems: list[EmfProblem] = []
    for line in lines:
        parsed = parse_emf_line(line, request_id)
        if isinstance(parsed, EmfRecord):
            records.append(parsed)
        elif isinstance(parsed, EmfProblem):
            problems.append(parsed)
    return records, problems
