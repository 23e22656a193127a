"""Read the metrics a function emitted from its log lines, as CloudWatch would from EMF.

Powertools Metrics does not call PutMetricData: ``@metrics.log_metrics`` prints
one CloudWatch embedded metric format (EMF) object per flush on stdout, and on
AWS CloudWatch Logs turns that log event into metrics. The local emulator
(MiniStack) stores the line but extracts nothing, so the workshop reads the
lines itself (the format and its validation: `workshop.inspect.emf`, whose
names this module re-exports for the checks and tests that read both).

Why per invocation: a durable function's handler body runs again after every
suspension. A metric added in replayed code is flushed once per invocation; one
added inside a step or after the last suspension, once per execution. So every
series keeps its values by request id, and a report knows the invocations that
printed no EMF at all.

The parsing and ``aggregate`` are pure (lines in, data out). ``metrics_for_execution``
and ``metrics_for_function`` fetch the lines: CloudWatch Logs in the emulator,
split by request id with ``workshop.inspect.loglines.split_by_request``, and the
function host's invocation index, through ``workshop.inspect``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from workshop.inspect import InspectError as CliError
from workshop.inspect import Services, invocation_logs, read_stream, split_qualifier
from workshop.config import StackConfig
from workshop.inspect.emf import (
    NO_UNIT,
    EmfProblem,
    EmfRecord,
    MetricPoint,
    parse_emf_line,
    parse_emf_lines,
)
from workshop.inspect.events import epoch_seconds
from workshop.inspect.loglines import split_by_request

__all__ = [
    "EmfProblem",
    "EmfRecord",
    "InvocationMetrics",
    "MetricPoint",
    "MetricSeries",
    "MetricsReport",
    "aggregate",
    "metrics_for_execution",
    "metrics_for_function",
    "metrics_for_functions",
    "parse_emf_line",
    "parse_emf_lines",
]


# --------------------------------------------------------------------- model
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
