"""What the explorer's pages show and what its buttons do, read and sent through workshop.inspect.

Why a class of its own, injected into the app: the routes never touch boto3,
the CLI or the stack's files, so tests can hand the app a fake backend, and
everything the explorer reads is what `workshop list/timeline/callback/
approvals` and `make progress` read (workshop.inspect, workshop.labs.progress).
Values come back as the Timeline/Grid dataclasses, the views below and plain
dicts whose keys are no dict method's name (a template's `row.values` would
be the method); turning them into HTML (escaped) is the templates' job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from workshop.config import StackConfig
from workshop.explorer.grid import Grid, build_grid
from workshop.inspect import TERMINAL, Services, fetch_history
from workshop.inspect import approvals as approval_requests
from workshop.inspect import callbacks as callback_answers
from workshop.inspect.events import EXECUTION_END_EVENTS, _detail, _error_text, decode_payload, epoch_seconds, normalize_event
from workshop.inspect.execution import list_executions, load_timeline, pending_callbacks
from workshop.inspect.metrics import MetricSeries, aggregate
from workshop.inspect.timeline import Timeline
from workshop.inspect.traces import build_traces, fetch_segments
from workshop.labs.model import all_labs
from workshop.labs.progress import read_progress

STATUSES = ("RUNNING", *sorted(TERMINAL))


@dataclass
class ExecutionView:
    arn: str
    function: str | None
    timeline: Timeline
    grid: Grid
    history: list[dict[str, Any]]
    input: str | None = None  # the whole payloads, decoded and indented (the Timeline keeps previews)
    result: str | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.timeline.status not in TERMINAL


@dataclass
class OperationView:
    op_id: str
    name: str | None
    kind: str
    invocation: int
    state: str
    attempt: int | None
    input: str | None
    result: str | None
    error: str | None
    events: list[dict[str, Any]]  # {type, at, when ("this invocation", "woke it" or ""), details (pretty JSON)}
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SpanRow:
    """One trace segment or subsegment as a row of the invocation panel, indented by depth."""

    depth: int
    name: str
    duration_ms: float | None
    annotations: str
    error: bool


@dataclass
class InvocationView:
    number: int
    request_id: str | None
    logs: list[Any]  # workshop.inspect.loglines.LogLine
    spans: list[SpanRow]
    metrics: list[MetricSeries]  # what `make metrics` reads, per series (not dicts: see metric_rows)
    problems: list[str] = field(default_factory=list)


def pretty(value: Any) -> str:
    """A decoded payload as indented JSON text (text that is not JSON is shown as it is)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def _payload_text(wrapper: Any) -> str | None:
    if not isinstance(wrapper, dict) or "Payload" not in wrapper:
        return None
    return pretty(decode_payload(wrapper.get("Payload")))


class StackBackend:
    """The explorer's view of one local stack (the one StackConfig() finds unless told otherwise)."""

    def __init__(self, services: Services | None = None) -> None:
        self.services = services or Services()
        # Pages are served from worker threads at once, and creating boto3 clients from the
        # default session in two threads at a time is not safe: create them here, once.
        for service in ("lambda", "logs", "dynamodb"):
            self.services.client(service)

    @property
    def config(self) -> StackConfig:
        return self.services.config

    # ------------------------------------------------------------- reading
    def functions(self) -> list[str]:
        return self.services.durable_functions()

    def executions(self, function: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Every execution of every durable function (or of one), newest first, with its invocation count."""
        targets = [function] if function else None
        rows = list_executions(self.services, targets, status or None)
        counts: dict[str, int] = {}
        for entry in self.services.invocations():
            arn = entry.get("execution_arn")
            if arn:
                counts[arn] = counts.get(arn, 0) + 1
        out = []
        for row in reversed(rows):
            started = epoch_seconds(row.get("StartTimestamp"))
            ended = epoch_seconds(row.get("EndTimestamp"))
            out.append(
                {
                    "arn": row["DurableExecutionArn"],
                    "name": row.get("DurableExecutionName"),
                    "function": row["_function"],
                    "status": row.get("Status", "?"),
                    "started": started,
                    "duration_s": (ended - started) if started is not None and ended is not None else None,
                    "invocations": counts.get(row["DurableExecutionArn"], 0),
                }
            )
        return out

    def execution(self, arn: str) -> ExecutionView:
        history = fetch_history(self.services, arn)
        timeline, function = load_timeline(self.services, arn)
        view = ExecutionView(arn, function, timeline, build_grid(timeline, history), history)
        for raw in history:
            event = normalize_event(raw)
            detail = _detail(event)
            if event.type == "ExecutionStarted":
                view.input = _payload_text(detail.get("Input"))
            elif event.type in EXECUTION_END_EVENTS:
                view.result = _payload_text(detail.get("Result"))
                view.error = _error_text(detail.get("Error")) or (None if event.type == "ExecutionSucceeded" else event.type)
        return view

    def operation(self, view: ExecutionView, op_id: str, number: int) -> OperationView | None:
        """One cell: the operation's input, result or error and attempt, as of invocation `number`."""
        row = next((r for r in view.grid.rows if r.op_id == op_id), None)
        invocations = view.timeline.invocations
        if row is None or not 1 <= number <= len(invocations):
            return None
        cell = row.cells[number - 1]
        start, end = invocations[number - 1].start, invocations[number - 1].end
        previous_end = invocations[number - 2].end if number > 1 else None
        events, input_text, result, error = [], None, None, None
        for raw in view.history:
            event = normalize_event(raw)
            if event.op_id != op_id or (end is not None and event.timestamp > end):
                continue
            detail = _detail(event)
            input_text = _payload_text(detail.get("Input")) or input_text
            result = _payload_text(detail.get("Result")) or result
            error = _error_text(detail.get("Error")) or error
            after_previous = previous_end is None or event.timestamp > previous_end
            when = ""  # recorded before the previous invocation ended
            if after_previous:  # the service's results between two invocations are what woke this one
                when = "woke it" if event.by_service and start is not None and event.timestamp < start else "this invocation"
            events.append({"type": event.type, "at": event.timestamp, "when": when, "details": pretty(detail) if detail else ""})
        return OperationView(
            op_id=op_id, name=row.name, kind=row.kind, invocation=number, state=cell.label, attempt=cell.attempt,
            input=input_text, result=result, error=error, events=events, notes=cell.notes,
        )  # fmt: skip

    def invocation(self, view: ExecutionView, number: int) -> InvocationView | None:
        """One column: the invocation's log lines, its trace segments and the EMF metrics it printed."""
        if not 1 <= number <= len(view.timeline.invocations):
            return None
        inv = view.timeline.invocations[number - 1]
        problems: list[str] = []
        spans: list[SpanRow] = []
        if inv.request_id:
            try:
                for trace in build_traces(fetch_segments(self.config, request_id=inv.request_id)):
                    for root in trace.roots:
                        spans.extend(_spans(root, 0))
            except Exception as exc:  # noqa: BLE001 - the sink's absence is said on the page, not raised
                problems.append(getattr(exc, "message", str(exc)))
        metrics, emf_problems = metric_rows(inv.request_id, [line.text for line in inv.logs])
        problems.extend(emf_problems)
        return InvocationView(number, inv.request_id, inv.logs, spans, metrics, problems)

    def callbacks(self) -> list[dict[str, Any]]:
        """Every callback started and not answered, of every RUNNING execution."""
        return pending_callbacks(self.services, callback_answers.running_executions(self.services))

    def approvals(self) -> list[dict[str, Any]]:
        return approval_requests.list_requests(self.services)

    def labs(self) -> list[dict[str, Any]]:
        """Each lab, its stages with the last result (and the best), and the hint for the first stage not passed."""
        progress = {lab.number: lab for lab in read_progress(self.config)}
        out = []
        for lab in all_labs():
            seen = progress.get(lab.number)
            last = {s.number: s.last for s in seen.stages} if seen else {}
            best = {s.number: s.best for s in seen.stages} if seen else {}
            stages = [{"number": s.number, "title": s.title, "passed": last.get(s.number), "best": best.get(s.number, False)} for s in lab.stages]
            unpassed = seen.first_unpassed if seen and seen.last_run else None
            first = next((s for s in lab.stages if unpassed and s.number == unpassed.number), None)
            out.append(
                {
                    "number": lab.number, "title": lab.title, "goal": lab.goal, "when": seen.last_run if seen else None, "stages": stages,
                    "next": {"number": first.number, "title": first.title, "hint": first.hint} if first else None,
                }
            )  # fmt: skip
        return out

    # ------------------------------------------------------------- actions
    def succeed(self, callback_id: str, result: str | None) -> None:
        callback_answers.succeed(self.services, callback_id, result)

    def fail(self, callback_id: str, error_type: str | None, error_message: str | None) -> None:
        callback_answers.fail(self.services, callback_id, error_type, error_message)

    def heartbeat(self, callback_id: str) -> None:
        callback_answers.heartbeat(self.services, callback_id)

    def approve(self, request_id: str, approver: str, comment: str | None) -> dict[str, Any]:
        return approval_requests.approve(self.services, request_id, approver, comment)

    def reject(self, request_id: str, reason: str) -> dict[str, Any]:
        return approval_requests.reject(self.services, request_id, reason)


def metric_rows(request_id: str | None, log_lines: list[str]) -> tuple[list[MetricSeries], list[str]]:
    """The EMF series one invocation's log lines printed, and what could not be read (`make metrics`' reading).

    The series themselves, not dicts made from them: in a Jinja template `row.values`
    of a dict is the dict's own `values` method, and the panel broke exactly so
    whenever an invocation had printed metrics.
    """
    report = aggregate({request_id: log_lines}, [{"request_id": request_id}])
    return report.series, [f"EMF: {p.reason}" for p in report.problems]


def _spans(span: Any, depth: int) -> list[SpanRow]:
    doc = span.doc
    out = [
        SpanRow(
            depth=depth,
            name=doc.get("name", "?"),
            duration_ms=span.duration_ms,
            annotations=", ".join(f"{k}={v}" for k, v in sorted(span.annotations.items())),
            error=bool(doc.get("error") or doc.get("fault")),
        )
    ]
    for child in span.children:
        out.extend(_spans(child, depth + 1))
    return out
