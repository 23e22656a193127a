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
operation (wait, callback, chained invoke, step retry) still open at its end,
as the invocation saw it: one the service closed after the invocation's last
checkpoint (a quick chained invoke) is still what it suspended on.

Where the index entry carries the SDK replay recorder's record, each section
is checked against it (workshop.inspect.replay): the SDK knows what it
replayed, the above infers it. Where they disagree the history wins, and the
operation (`confirmed`, `disagreement`) and the notes say so.

`InvocationCompleted` events carry no request id, so they are only matched to
index entries by time; a handler run that crashed may have none (the runner
did not count it), and an `InvocationCompleted` with no index entry becomes an
invocation without a request id. Nothing is filled in that the data does not say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from workshop.inspect.events import (
    EXECUTION_END_EVENTS,
    HistoryEvent,
    _detail,
    _error_text,
    epoch_seconds,
    normalize_event,
    preview_payload,
    summarize,
)
from workshop.inspect.loglines import LogLine, _invocation_log
from workshop.inspect.replay import reconcile, recorded

# Operations that can hold an execution suspended; contexts only contain them.
LEAF_KINDS = frozenset({"Step", "Wait", "Callback", "ChainedInvoke"})

# An InvocationCompleted is stamped by the runner just after the host recorded
# the invocation's end; the runner's stamp has millisecond precision.
_PAIR_EARLY_S = 0.05
_PAIR_LATE_S = 5.0


# --------------------------------------------------------------------- model
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
    confirmed: bool | None = None  # the SDK's replay recorder agrees (None: no record to check against)
    disagreement: str | None = None  # what the recorder says instead, when it does not agree (history shown)


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
    replay_source: str = "history"  # "recorder": the sections were checked against the SDK's replay recorder
    ended_as: str | None = None  # the SDK's invocation status: SUCCEEDED | FAILED | PENDING | RETRY (recorder only)
    ended_error: str | None = None  # the SDK's invocation error, "Type: message", cut short (recorder only)


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
        # A next attempt scheduled: a retried failure, or a wait_for_condition poll (a StepSucceeded).
        # A plain StepSucceeded carries RetryDetails too, as on AWS: CurrentAttempt only.
        return not (_detail(event).get("RetryDetails") or {}).get("NextAttemptDelaySeconds")
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
    replay_notes: list[str] = []
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
        last_own = max((e.event_id for e in own), default=0)
        unread = [e for e in during if e.event_id > last_own]  # closed after its last checkpoint: too late for it
        open_ops = _open_leaves([e for e in seen_events if e not in unread], later_starts)
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
        if (record := recorded(slot.entry)) is not None:
            replay_notes.extend(reconcile(invocation, record))
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
    notes = _notes(result, events) + replay_notes
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
