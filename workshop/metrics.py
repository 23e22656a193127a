"""Read the metrics a function emitted from its log lines, as CloudWatch would from EMF.

Powertools Metrics does not call PutMetricData: ``@metrics.log_metrics`` prints
one CloudWatch embedded metric format (EMF) object per flush on stdout, and on
AWS CloudWatch Logs turns that log event into metrics. The local emulator
(MiniStack) stores the line but extracts nothing, so the workshop reads the
lines itself:

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

Why per invocation: a durable function's handler body runs again after every
suspension. A metric added in replayed code is flushed once per invocation; one
added inside a step or after the last suspension, once per execution. So every
series keeps its values by request id, and a report knows the invocations that
printed no EMF at all.

What counts as a problem rather than noise: a line that is not JSON, or JSON
without ``_aws``, is an ordinary log line and is ignored. A line that mentions
``"_aws"`` claims to be EMF: if it is not valid JSON, if ``_aws`` is not a
top-level key of the log event (an EMF object passed to a logger, or printed
after a prefix), or if the ``_aws`` structure breaks the specification, it is
reported as an ``EmfProblem`` and none of its metrics are counted.

The first part of this module is pure (lines in, data out). ``metrics_for_execution``
and ``metrics_for_function`` fetch the lines: CloudWatch Logs in the emulator,
split by request id with ``workshop.timeline.split_by_request``, and the
function host's invocation index, through ``workshop.inspect``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from workshop.inspect import InspectError as CliError
from workshop.inspect import Services, invocation_logs, read_stream, split_qualifier
from workshop.config import StackConfig
from workshop.timeline import epoch_seconds, split_by_request

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


@dataclass
class MetricSeries:
    """One CloudWatch metric: namespace, name and dimension values; its values by request id."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    units: list[str] = field(default_factory=list)  # normally one; more if records disagree
    per_invocation: dict[str | None, list[float]] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return ", ".join(self.units) if self.units else NO_UNIT

    @property
    def values(self) -> list[float]:
        return [v for values in self.per_invocation.values() for v in values]

    @property
    def sum(self) -> float:
        return math.fsum(self.values)

    @property
    def data_points(self) -> int:
        return len(self.values)

    def sum_by_invocation(self) -> dict[str | None, float]:
        return {request_id: math.fsum(values) for request_id, values in self.per_invocation.items()}

    def dimensions_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.dimensions) or "(none)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "dimensions": dict(self.dimensions),
            "unit": self.unit,
            "sum": self.sum,
            "data_points": self.data_points,
            "per_invocation": {str(k): v for k, v in self.per_invocation.items()},
        }


@dataclass
class InvocationMetrics:
    """One invocation (request id) looked at, numbered in start order as `workshop timeline` does."""

    number: int
    request_id: str | None
    function: str | None = None
    execution_arn: str | None = None
    start: float | None = None
    has_logs: bool = True  # its framed log lines were found
    records: int = 0  # valid EMF records it printed
    problems: int = 0  # lines that claimed EMF and were not valid

    @property
    def emitted_nothing(self) -> bool:
        """It ran and printed no EMF line at all (not even a broken one)."""
        return self.has_logs and self.records == 0 and self.problems == 0


@dataclass
class MetricsReport:
    """The metrics of an execution or of functions' log groups, per series and per invocation."""

    scope: str  # "execution" | "function"
    target: str  # the execution ARN, or the function name(s)
    invocations: list[InvocationMetrics]
    series: list[MetricSeries]
    problems: list[EmfProblem]
    notes: list[str] = field(default_factory=list)

    def find(self, name: str, namespace: str | None = None, **dimensions: str) -> list[MetricSeries]:
        """Series with this metric name (and namespace / exact dimension values, when given)."""
        return [
            s
            for s in self.series
            if s.name == name
            and (namespace is None or s.namespace == namespace)
            and (not dimensions or dict(s.dimensions) == dimensions)
        ]

    def invocation(self, request_id: str | None) -> InvocationMetrics | None:
        return next((i for i in self.invocations if i.request_id == request_id), None)

    @property
    def silent(self) -> list[InvocationMetrics]:
        """Invocations whose log lines hold no EMF at all."""
        return [i for i in self.invocations if i.emitted_nothing]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "target": self.target,
            "invocations": [asdict(i) | {"emitted_nothing": i.emitted_nothing} for i in self.invocations],
            "series": [s.to_dict() for s in self.series],
            "problems": [asdict(p) for p in self.problems],
            "notes": list(self.notes),
        }


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


# --------------------------------------------------------------- aggregation
def aggregate(
    logs_by_request: Mapping[str | None, Iterable[str]],
    invocations: Sequence[Mapping[str, Any]] | None = None,
    *,
    scope: str = "function",
    target: str = "",
    notes: Iterable[str] = (),
) -> MetricsReport:
    """Sum every series over the invocations, keeping each invocation's values.

    `logs_by_request`: log lines by request id (``split_by_request``'s output).
    `invocations`: index-like entries (``request_id``, optional ``start``,
    ``function``, ``execution_arn``) saying which invocations to look at, in
    order; an entry whose request id has no lines is reported, not skipped.
    Without it, every request id of `logs_by_request` is looked at, in its order.
    """
    if invocations is None:
        invocations = [{"request_id": request_id} for request_id in logs_by_request]
    ordered = sorted(enumerate(invocations), key=lambda pair: (pair[1].get("start") is None, pair[1].get("start") or 0.0, pair[0]))
    seen: set[str | None] = set()
    report = MetricsReport(scope=scope, target=target, invocations=[], series=[], problems=[], notes=list(notes))
    series: dict[tuple[str, str, tuple[tuple[str, str], ...]], MetricSeries] = {}
    for _, entry in ordered:
        request_id = entry.get("request_id")
        if request_id in seen:
            continue
        seen.add(request_id)
        lines = logs_by_request.get(request_id)
        info = InvocationMetrics(
            number=len(report.invocations) + 1,
            request_id=request_id,
            function=entry.get("function"),
            execution_arn=entry.get("execution_arn"),
            start=entry.get("start"),
            has_logs=lines is not None,
        )
        report.invocations.append(info)
        if lines is None:
            continue
        records, problems = parse_emf_lines(lines, request_id)
        info.records, info.problems = len(records), len(problems)
        report.problems.extend(problems)
        for record in records:
            for point in record.points:
                key = (point.namespace, point.name, point.dimensions)
                current = series.setdefault(key, MetricSeries(point.namespace, point.name, point.dimensions))
                if point.unit not in current.units:
                    current.units.append(point.unit)
                current.per_invocation.setdefault(request_id, []).extend(point.values)
    report.series = sorted(series.values(), key=lambda s: (s.namespace, s.name, s.dimensions))
    for info in report.invocations:
        if not info.has_logs:
            report.notes.append(f"Invocation {info.number} ({info.request_id}): no log lines found, so its metrics are unknown.")
    return report


# ------------------------------------------------------------------ fetching
def _services(config: StackConfig | None, services: Services | None = None) -> Services:
    return services if services is not None else Services(config=config or StackConfig())


def metrics_for_execution(
    config: StackConfig | None, arn: str, *, function: str | None = None, services: Services | None = None
) -> MetricsReport:
    """The metrics every invocation of one durable execution emitted.

    Invocations come from the function host's index (request ids of this
    execution), their lines from CloudWatch Logs. Raises ``workshop.inspect.InspectError``
    when the function host does not answer, and botocore's errors when the
    emulator does not.
    """
    services = _services(config, services)
    entries = services.invocations(execution_arn=arn)
    if function:
        name, _ = split_qualifier(function)
        entries = [e for e in entries if e.get("function") in (None, name)]
    by_request, problems = invocation_logs(services, entries)
    notes = list(problems)
    if not entries:
        notes.append(f"The function host recorded no invocation for execution {arn}.")
    return aggregate(by_request, entries, scope="execution", target=arn, notes=notes)


def metrics_for_function(
    config: StackConfig | None, function: str, since: Any = None, *, services: Services | None = None
) -> MetricsReport:
    """The metrics in a function's log group (every stream), optionally only since a time.

    `since`: epoch seconds, a datetime or an ISO string. Execution ARNs are
    taken from the function host's index when it answers.
    """
    return metrics_for_functions(config, [function], since, services=services)


def metrics_for_functions(
    config: StackConfig | None, functions: Sequence[str], since: Any = None, *, services: Services | None = None
) -> MetricsReport:
    """``metrics_for_function`` over several functions, in one report."""
    services = _services(config, services)
    start_ms = int(epoch_seconds(since) * 1000) if since is not None else None
    names = [split_qualifier(f)[0] for f in functions]
    entries: list[dict[str, Any]] = []
    by_request: dict[str | None, list[str]] = {}
    notes: list[str] = []
    logs = services.client("logs")
    cut = 0  # invocations that started before `since`: only their tail was read
    for name in names:
        group = services.log_group(name)
        streams: list[str] = []
        try:
            for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group):
                streams.extend(s["logStreamName"] for s in page.get("logStreams", []))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            notes.append(f"No log group {group}: {name} has not been invoked yet.")
            continue
        for stream in streams:
            lines = read_stream(services, group, stream, start_ms)
            first_seen = {message: timestamp for timestamp, message in reversed(lines)}
            for request_id, framed in split_by_request(message for _, message in lines).items():
                if not framed or not framed[0].startswith("START RequestId:"):
                    cut += 1
                    continue
                by_request[request_id] = framed
                started = first_seen.get(framed[0])
                entries.append({"request_id": request_id, "function": name, "start": started / 1000 if started else None})
    if cut:
        notes.append(f"{cut} invocation(s) whose START line was not read (they began before the time asked for) were left out.")
    try:
        index = {e.get("request_id"): e for name in names for e in services.invocations(function=name)}
    except CliError as exc:
        index = {}
        notes.append(f"Execution ARNs left out: {exc.message}")
    for entry in entries:
        known = index.get(entry["request_id"]) or {}
        entry["execution_arn"] = known.get("execution_arn")
    return aggregate(by_request, entries, scope="function", target=", ".join(names), notes=notes)
