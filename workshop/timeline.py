"""Assemble the picture `workshop timeline` draws: one durable execution, invocation by invocation.

Pure functions over recorded data, no I/O, so tests can feed recorded fixtures:

- the durable history (GetDurableExecutionHistory events),
- the function host's invocation index (one entry per handler run: request
  id, start/end wall-clock time, init duration, error type, log stream),
- the log lines each invocation printed, by request id.

How events are placed in an invocation, and why:

The function host records `start` as `end - duration` *after* shipping the
invocation's logs, so `start` can be a few milliseconds late (a step's
checkpoint has been seen stamped before it). The `end` values are reliable
and only one invocation of an execution runs at a time (the runner holds an
invocation gate), so invocation k owns the interval (end of k-1, end of k].
Within it, events the SDK checkpoints from inside the handler (every
`...Started`, step results, child-context results, `WaitCancelled`) ran in
invocation k. Events the service records by itself (a timer firing, a callback
answered, a chained invoke finishing, the execution's own start/end) are
compared with invocation k's start: before it, they are what woke the
execution up; after it, they arrived while it ran.

An operation counts as *replayed* in invocation k when its final event was
recorded before invocation k started: on replay the SDK returns the stored
result instead of running it. What an invocation *ended on* is every leaf
operation (wait, callback, chained invoke, step retry) still open at its end.

`InvocationCompleted` events carry no request id, so they are only matched to
index entries by time; a handler run that crashed may have none (the runner
did not count it), and an `InvocationCompleted` with no index entry becomes an
invocation without a request id. Nothing is filled in that the data does not say.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# Events the service records on its own; every other operation event is a
# checkpoint the SDK sent from inside a running invocation.
SERVICE_EVENTS = frozenset(
    {
        "ExecutionStarted",
        "ExecutionSucceeded",
        "ExecutionFailed",
        "ExecutionTimedOut",
        "ExecutionStopped",
        "ExecutionPaused",
        "ExecutionResumed",
        "WaitSucceeded",
        "CallbackSucceeded",
        "CallbackFailed",
        "CallbackTimedOut",
        "ChainedInvokeSucceeded",
        "ChainedInvokeFailed",
        "ChainedInvokeTimedOut",
        "ChainedInvokeStopped",
        "InvocationCompleted",
    }
)
EXECUTION_END_EVENTS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionStopped"})
_SUFFIXES = ("Started", "Succeeded", "Failed", "Cancelled", "TimedOut", "Stopped", "Paused", "Resumed", "Completed")
# Operations that can hold an execution suspended; contexts only contain them.
LEAF_KINDS = frozenset({"Step", "Wait", "Callback", "ChainedInvoke"})

# An InvocationCompleted is stamped by the runner just after the host recorded
# the invocation's end; the runner's stamp has millisecond precision.
_PAIR_EARLY_S = 0.05
_PAIR_LATE_S = 5.0
_PREVIEW_CHARS = 500

# Keys every Powertools/durable-SDK JSON line carries: shown elsewhere or noise.
_LOG_NOISE_KEYS = frozenset(
    {
        "level",
        "levelname",
        "message",
        "msg",
        "timestamp",
        "time",
        "location",
        "service",
        "xray_trace_id",
        "executionArn",
        "operationId",
        "parentId",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "sampling_rate",
        "logger",
    }
)
_LOG_FIRST_KEYS = ("operationName", "attempt")
_START_RE = re.compile(r"^START RequestId: (?P<id>\S+)")
_END_RE = re.compile(r"^END RequestId: (?P<id>\S+)")
_REPORT_RE = re.compile(r"^REPORT RequestId: (?P<id>\S+)")
# Fields are tab-separated; anchoring on the tab keeps "Billed Duration" out of "Duration".
_REPORT_FIELD_RE = re.compile(r"\t(?P<key>Init Duration|Duration): (?P<ms>[\d.]+) ms")


# --------------------------------------------------------------------- model
@dataclass(frozen=True)
class HistoryEvent:
    """One history event, with its timestamp as epoch seconds and details as plain data."""

    event_id: int
    type: str
    timestamp: float
    op_id: str | None
    name: str | None
    sub_type: str | None
    parent_id: str | None
    details: dict[str, Any]

    @property
    def kind(self) -> str:
        """Step, Wait, Callback, Context, ChainedInvoke, Execution or Invocation."""
        for suffix in _SUFFIXES:
            if self.type.endswith(suffix):
                return self.type[: -len(suffix)]
        return self.type

    @property
    def by_service(self) -> bool:
        return self.type in SERVICE_EVENTS


@dataclass
class Operation:
    """An operation as it appears in one section of the timeline."""

    id: str
    name: str | None
    kind: str  # Step | Wait | Callback | Context | ChainedInvoke
    sub_type: str | None
    parent_id: str | None
    depth: int  # 0 = top level, 1 = inside a child context, ...
    events: list[str] = field(default_factory=list)  # event types, in order
    attempt: int | None = None  # steps: which attempt these events belong to
    summary: str = ""  # what the events' details say (result, error, duration, retry)
    callback_id: str | None = None
    scheduled_end: float | None = None  # waits: when the timer is due (epoch seconds)
    at: float | None = None  # timestamp of the last event listed


@dataclass
class LogLine:
    """One line the handler printed; JSON lines are split into level, message and a few keys."""

    text: str
    is_json: bool = False
    level: str | None = None
    message: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Invocation:
    """One run of the handler for this execution."""

    number: int
    request_id: str | None
    start: float | None
    end: float | None
    duration_ms: float | None
    init_ms: float | None
    cold_start: bool | None
    error_type: str | None
    in_index: bool  # the function host recorded it
    in_history: bool  # an InvocationCompleted event matches it
    in_progress: bool = False  # checkpoints seen, but the invocation has not ended yet
    resumed_by: list[Operation] = field(default_factory=list)  # recorded by the service before it started
    replayed: list[Operation] = field(default_factory=list)  # completed before it started
    ran: list[Operation] = field(default_factory=list)  # checkpointed while it ran
    arrived_during: list[Operation] = field(default_factory=list)  # service events while it ran
    suspended_on: list[Operation] = field(default_factory=list)  # still open when it ended
    ended_execution: str | None = None  # the execution's final status, if it ended right after
    logs: list[LogLine] = field(default_factory=list)
    has_logs: bool = False  # log lines for this request id were found


@dataclass
class Timeline:
    """Everything `workshop timeline` shows, derived from the three sources."""

    execution_arn: str | None
    execution_name: str | None
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | STOPPED | RUNNING
    input: str | None
    result: str | None
    error: str | None
    started: float | None
    ended: float | None
    invocations: list[Invocation]
    after_last: list[Operation]  # service events after the last invocation, before the end
    pending: list[Operation]  # open leaf operations at the end of the history
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------- normalising
def epoch_seconds(value: Any) -> float | None:
    """A boto3 datetime, a raw JSON number (seconds) or an ISO string, as epoch seconds."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return epoch_seconds(parsed)
    raise TypeError(f"not a timestamp: {value!r}")


def plain(value: Any) -> Any:
    """Details as JSON-able data: datetimes become epoch seconds, bytes text."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, _dt.datetime):
        return epoch_seconds(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def normalize_event(raw: Mapping[str, Any]) -> HistoryEvent:
    details = {key: plain(value) for key, value in raw.items() if key.endswith("Details")}
    return HistoryEvent(
        event_id=int(raw.get("EventId", 0)),
        type=str(raw["EventType"]),
        timestamp=epoch_seconds(raw.get("EventTimestamp")) or 0.0,
        op_id=raw.get("Id"),
        name=raw.get("Name"),
        sub_type=raw.get("SubType"),
        parent_id=raw.get("ParentId"),
        details=details,
    )


def _detail(event: HistoryEvent) -> dict[str, Any]:
    return event.details.get(f"{event.type}Details") or {}


def preview_payload(payload: Any) -> str | None:
    """Compact text for a result payload; the SDK's typed envelope ({"t":..,"v":..}) is decoded."""
    if payload is None:
        return None
    text = payload if isinstance(payload, str) else json.dumps(payload)
    try:
        value = json.loads(text)
    except ValueError:
        return text[:_PREVIEW_CHARS]
    if isinstance(value, dict) and set(value) == {"t", "v"}:
        try:
            from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES

            value = EXTENDED_TYPES_SERDES.deserialize(text)
        except Exception:  # noqa: BLE001 - an undecodable envelope is shown as stored
            pass
    return json.dumps(value, default=str, ensure_ascii=False)[:_PREVIEW_CHARS]


def _error_text(error: Any) -> str | None:
    """'ErrorType: ErrorMessage' from an event's Error (raw, or wrapped in Payload)."""
    if not error:
        return None
    if isinstance(error, dict) and "Payload" in error:
        error = error["Payload"]
    if isinstance(error, dict):
        kind, message = error.get("ErrorType"), error.get("ErrorMessage")
        return ": ".join(part for part in (kind, message) if part) or json.dumps(error)
    return str(error)


def summarize(event: HistoryEvent) -> str:
    """What one event's details say, in a few words."""
    detail = _detail(event)
    retry = detail.get("RetryDetails") or {}
    delay = retry.get("NextAttemptDelaySeconds")
    parts: list[str] = []
    if event.type == "WaitStarted":
        if detail.get("Duration") is not None:
            parts.append(f"{detail['Duration']} s")
    elif event.type == "WaitSucceeded":
        parts.append("timer fired")
    elif event.type == "CallbackStarted":
        if detail.get("Timeout"):
            parts.append(f"timeout {detail['Timeout']} s")
        if detail.get("HeartbeatTimeout"):
            parts.append(f"heartbeat timeout {detail['HeartbeatTimeout']} s")
    elif event.type == "ChainedInvokeStarted":
        if detail.get("FunctionName"):
            parts.append(f"function {detail['FunctionName']}")
    if "Result" in detail:
        result = preview_payload((detail.get("Result") or {}).get("Payload"))
        if result is not None:
            parts.append(f"→ {result}")
    if "Error" in detail:
        error = _error_text(detail.get("Error"))
        if error:
            parts.append(error)
    if delay:
        parts.append(f"retry in {delay} s")
    return "; ".join(parts)


# ------------------------------------------------------------------- logs
def split_by_request(lines: Iterable[str]) -> dict[str, list[str]]:
    """Cut a log stream into invocations using Lambda's START / END / REPORT framing.

    Each request id gets its framed lines (START and REPORT included), so the
    REPORT line's durations stay available to `build_timeline`.
    """
    by_request: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        if match := _START_RE.match(line):
            current = match["id"]
            by_request.setdefault(current, []).append(line)
        elif match := _REPORT_RE.match(line):
            by_request.setdefault(match["id"], []).append(line)
            current = None
        elif current is not None:
            by_request[current].append(line)
    return by_request


def parse_log_line(text: str) -> LogLine:
    """A JSON log line (Powertools, the durable SDK's logger) becomes level, message and a few keys."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            level = data.get("level") or data.get("levelname")
            message = data.get("message", data.get("msg"))
            if message is None and "errorType" in data:  # the runtime's error line
                level = level or "ERROR"
                message = ": ".join(str(data[k]) for k in ("errorType", "errorMessage") if data.get(k))
            keys = [k for k in _LOG_FIRST_KEYS if k in data]
            keys += [k for k in data if k not in _LOG_NOISE_KEYS and k not in keys and k not in ("errorType", "errorMessage", "stackTrace", "requestId")]
            return LogLine(
                text=text,
                is_json=True,
                level=str(level) if level is not None else None,
                message=message if isinstance(message, str) or message is None else json.dumps(message, default=str),
                fields={k: data[k] for k in keys},
            )
    return LogLine(text=text)


def _invocation_log(lines: list[str], request_id: str) -> tuple[list[LogLine], float | None, float | None]:
    """The handler's own lines, and the REPORT line's duration and init duration."""
    duration = init = None
    own: list[LogLine] = []
    for line in lines:
        if _START_RE.match(line) or _END_RE.match(line):
            continue
        if match := _REPORT_RE.match(line):
            if match["id"] == request_id:
                for field_match in _REPORT_FIELD_RE.finditer(line):
                    if field_match["key"] == "Duration":
                        duration = float(field_match["ms"])
                    else:
                        init = float(field_match["ms"])
            continue
        own.append(parse_log_line(line))
    return own, duration, init


# ----------------------------------------------------------------- assembly
@dataclass
class _Slot:
    """An invocation while it is being assembled (index entry and/or InvocationCompleted)."""

    entry: dict[str, Any] | None
    start: float | None
    end: float | None
    completed_event: HistoryEvent | None = None
    events: list[HistoryEvent] = field(default_factory=list)


def _pair_completions(entries: list[dict[str, Any]], completions: list[HistoryEvent]) -> list[_Slot]:
    """Match InvocationCompleted events to index entries by time; keep the unmatched of both."""
    slots = [_Slot(entry=e, start=e.get("start"), end=e.get("end")) for e in entries]
    for completed in completions:
        candidates = [
            s
            for s in slots
            if s.entry is not None
            and s.completed_event is None
            and s.end is not None
            and completed.timestamp - _PAIR_LATE_S <= s.end <= completed.timestamp + _PAIR_EARLY_S
        ]
        if candidates:
            best = min(candidates, key=lambda s: abs(completed.timestamp - (s.end or 0)))
            best.completed_event = completed
        else:
            slots.append(_Slot(entry=None, start=None, end=completed.timestamp, completed_event=completed))
    slots.sort(key=lambda s: (s.end if s.end is not None else float("inf")))
    return slots


def _is_final(event: HistoryEvent, later_starts: dict[str, list[int]]) -> bool:
    """Whether this event closes its operation for good (a retried step's failure does not)."""
    if event.kind in ("Execution", "Invocation") or event.type.endswith("Started"):
        return False
    if event.kind == "Step":
        if any(i > event.event_id for i in later_starts.get(event.op_id or "", [])):
            return False
        retry = _detail(event).get("RetryDetails")
        if event.type == "StepSucceeded":
            return retry is None  # a StepSucceeded with RetryDetails is a polling retry
        return not (retry or {}).get("NextAttemptDelaySeconds")
    return True


def build_timeline(
    history_events: Iterable[Mapping[str, Any]],
    invocations: Iterable[Mapping[str, Any]],
    log_lines_by_request: Mapping[str, list[str]],
    execution_arn: str | None = None,
) -> Timeline:
    """Join history, invocation index and log lines into one timeline (see the module docstring)."""
    events = sorted((normalize_event(e) for e in history_events), key=lambda e: e.event_id)
    entries = sorted((dict(i) for i in invocations), key=lambda i: (i.get("start") or 0.0))
    completions = [e for e in events if e.type == "InvocationCompleted"]
    slots = _pair_completions(entries, completions)

    # Place each event: slot k owns (end of k-1, end of k]; the rest comes after the last end.
    trailing: list[HistoryEvent] = []
    for event in events:
        if event.type == "InvocationCompleted":
            continue
        for slot in slots:
            if slot.end is not None and event.timestamp <= slot.end:
                slot.events.append(event)
                break
        else:
            trailing.append(event)
    if any(not e.by_service for e in trailing):
        # Checkpoints after the last recorded end: an invocation is running now.
        running = _Slot(entry=None, start=None, end=None, events=[e for e in trailing if not e.by_service])
        first = running.events[0].timestamp
        running.events[:0] = [e for e in trailing if e.by_service and e.timestamp < first]
        trailing = [e for e in trailing if e not in running.events]
        slots.append(running)

    # Operation facts across the whole history.
    later_starts: dict[str, list[int]] = {}
    parents: dict[str, str | None] = {}
    first_seen: dict[str, HistoryEvent] = {}
    for event in events:
        if event.op_id is None or event.kind in ("Execution", "Invocation"):
            continue
        first_seen.setdefault(event.op_id, event)
        if event.parent_id:
            parents[event.op_id] = event.parent_id
        else:
            parents.setdefault(event.op_id, None)
        if event.type == "StepStarted":
            later_starts.setdefault(event.op_id, []).append(event.event_id)

    def depth(op_id: str) -> int:
        level, seen = 0, {op_id}
        parent = parents.get(op_id)
        while parent and parent not in seen and parent in parents:
            seen.add(parent)
            level += 1
            parent = parents.get(parent)
        return level

    def operation(op_id: str, listed: list[HistoryEvent], attempt: int | None = None) -> Operation:
        base = first_seen[op_id]
        last = listed[-1]
        callback_id = next(
            (_detail(e).get("CallbackId") for e in [base, *listed] if _detail(e).get("CallbackId")), None
        )
        scheduled_end = next(
            (
                epoch_seconds(_detail(e).get("ScheduledEndTimestamp"))
                for e in [base, *listed]
                if _detail(e).get("ScheduledEndTimestamp")
            ),
            None,
        )
        summaries = [summarize(e) for e in listed]
        return Operation(
            id=op_id,
            name=base.name,
            kind=base.kind,
            sub_type=base.sub_type,
            parent_id=parents.get(op_id),
            depth=depth(op_id),
            events=[e.type for e in listed],
            attempt=attempt,
            summary=next((s for s in reversed(summaries) if s), ""),
            callback_id=callback_id,
            scheduled_end=scheduled_end,
            at=last.timestamp,
        )

    def group(listed: list[HistoryEvent]) -> list[Operation]:
        by_op: dict[str, list[HistoryEvent]] = {}
        for e in listed:
            if e.op_id is not None and e.kind not in ("Execution", "Invocation"):
                by_op.setdefault(e.op_id, []).append(e)
        return [operation(op_id, evs, attempt_of(op_id, evs[-1])) for op_id, evs in by_op.items()]

    def attempt_of(op_id: str, event: HistoryEvent) -> int | None:
        if first_seen[op_id].kind != "Step":
            return None
        retry = _detail(event).get("RetryDetails") or {}
        if retry.get("CurrentAttempt"):
            return int(retry["CurrentAttempt"])
        return sum(1 for i in later_starts.get(op_id, []) if i <= event.event_id) or None

    # Walk the slots in order, keeping each operation's state.
    seen_events: list[HistoryEvent] = []  # everything recorded before the current point
    result: list[Invocation] = []
    for number, slot in enumerate(slots, start=1):
        entry = slot.entry or {}
        started = slot.start
        before = [e for e in slot.events if e.by_service and (started is None or e.timestamp < started)]
        own = [e for e in slot.events if not e.by_service]
        during = [e for e in slot.events if e.by_service and e not in before]

        done_before = seen_events + before
        final_before = {e.op_id: e for e in done_before if e.op_id and _is_final(e, later_starts)}
        replayed = [
            operation(op_id, [final], attempt_of(op_id, final))
            for op_id, final in sorted(final_before.items(), key=lambda kv: first_seen[kv[0]].event_id)
        ]

        seen_events = seen_events + slot.events
        open_ops = _open_leaves(seen_events, later_starts)
        lines = log_lines_by_request.get(entry.get("request_id") or "", None)
        logs, report_ms, report_init = _invocation_log(lines or [], entry.get("request_id") or "")
        init_ms = entry.get("init_ms")
        if init_ms is None:
            init_ms = report_init  # the REPORT line says the same when the index lacks it
        duration = report_ms
        if duration is None and slot.start is not None and slot.end is not None:
            duration = (slot.end - slot.start) * 1000
        invocation = Invocation(
            number=number,
            request_id=entry.get("request_id"),
            start=slot.start,
            end=slot.end,
            duration_ms=round(duration, 2) if duration is not None else None,
            init_ms=round(init_ms, 2) if init_ms is not None else None,
            cold_start=(init_ms is not None) if slot.entry is not None else None,
            error_type=entry.get("error_type"),
            in_index=slot.entry is not None,
            in_history=slot.completed_event is not None,
            in_progress=slot.entry is None and slot.completed_event is None,
            resumed_by=group(before),
            replayed=replayed,
            ran=group(own),
            arrived_during=group(during),
            suspended_on=[operation(op_id, [last], attempt_of(op_id, last)) for op_id, last in open_ops],
            logs=logs,
            has_logs=lines is not None,
        )
        result.append(invocation)

    # The execution's own start and end.
    started_event = next((e for e in events if e.type == "ExecutionStarted"), None)
    end_event = next((e for e in events if e.type in EXECUTION_END_EVENTS), None)
    status = "RUNNING"
    outcome_result = outcome_error = None
    if end_event is not None:
        status = {
            "ExecutionSucceeded": "SUCCEEDED",
            "ExecutionFailed": "FAILED",
            "ExecutionTimedOut": "TIMED_OUT",
            "ExecutionStopped": "STOPPED",
        }[end_event.type]
        detail = _detail(end_event)
        outcome_result = preview_payload((detail.get("Result") or {}).get("Payload")) if "Result" in detail else None
        outcome_error = _error_text(detail.get("Error"))
        if result and end_event in trailing and end_event.type in ("ExecutionSucceeded", "ExecutionFailed"):
            later = [e for e in trailing if e.event_id < end_event.event_id and e.kind != "Execution"]
            if not later:  # nothing happened between the last invocation and the end
                result[-1].ended_execution = status
    input_payload = None
    if started_event is not None:
        input_payload = ((_detail(started_event).get("Input") or {}).get("Payload"))

    after_last = group([e for e in trailing if e.kind != "Execution"])
    pending = [operation(op_id, [last], attempt_of(op_id, last)) for op_id, last in _open_leaves(events, later_starts)]
    notes = _notes(result, events)
    return Timeline(
        execution_arn=execution_arn or (entries[0].get("execution_arn") if entries else None),
        execution_name=started_event.name if started_event else None,
        status=status,
        input=input_payload,
        result=outcome_result,
        error=outcome_error,
        started=started_event.timestamp if started_event else None,
        ended=end_event.timestamp if end_event else None,
        invocations=result,
        after_last=after_last,
        pending=pending if status == "RUNNING" else [],
        notes=notes,
    )


def _open_leaves(seen: list[HistoryEvent], later_starts: dict[str, list[int]]) -> list[tuple[str, HistoryEvent]]:
    """Leaf operations started in `seen` and not closed in it, with their latest event."""
    last: dict[str, HistoryEvent] = {}
    for event in seen:
        if event.op_id and event.kind in LEAF_KINDS:
            last[event.op_id] = event
    return [(op_id, event) for op_id, event in last.items() if not _is_final(event, later_starts)]


def _notes(invocations: list[Invocation], events: list[HistoryEvent]) -> list[str]:
    """Where the sources disagree, say so instead of papering over it."""
    notes: list[str] = []
    for inv in invocations:
        label = f"Invocation {inv.number}"
        if inv.in_index and not inv.in_history:
            notes.append(
                f"{label} ({inv.request_id}) has no InvocationCompleted event in the durable history"
                + (f"; it ended with {inv.error_type}" if inv.error_type else "")
                + "."
            )
        if inv.in_history and not inv.in_index:
            notes.append(f"{label} is in the durable history but not in the function host's index: no request id, no log lines.")
        if inv.in_index and not inv.has_logs:
            notes.append(f"{label}: no log lines found for request {inv.request_id}.")
        if inv.in_progress:
            notes.append(f"{label} has checkpointed but not finished yet.")
    if not any(e.type == "ExecutionStarted" for e in events):
        notes.append("The history has no ExecutionStarted event.")
    return notes
