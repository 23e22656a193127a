"""The replay grid of one execution: operations down, invocations across, what each did with each.

Pure data from workshop.inspect's Timeline and the durable history, no I/O
and no HTML, so the unit tests feed it recorded executions. The Timeline
already says, per invocation, which operations it `ran` (checkpointed),
`replayed` (stored result returned), `suspended_on` and what `resumed_by`
it; the grid only lays that out:

- rows: every operation of the history in code order (the order of its first
  event), each under its child context (ParentId), depth-first;
- a cell: `suspended` (open at the invocation's end: what it waited on),
  `ran`, `replayed`, `entered` (a child context started earlier whose
  children this invocation replayed or ran: the SDK runs its function again),
  `arrived` (the service recorded its result while the invocation ran) or
  `not-reached`;
- a column: request id, cold or warm, duration, and what woke it.

The SDK's replay recorder (workshop.inspect.replay) checks each of the
Timeline's sections against what the SDK itself did: an operation it agrees
with is `confirmed`, one it disagrees with carries a `disagreement` (the
history is still what is shown). A cell says both, rather than deciding
between the sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workshop.inspect.events import normalize_event
from workshop.inspect.timeline import Invocation, Operation, Timeline

STATES = ("ran", "replayed", "suspended", "entered", "arrived", "not-reached")
LABELS = {
    "ran": "ran",
    "replayed": "replayed",
    "suspended": "suspended on",
    "entered": "re-entered",
    "arrived": "result arrived",
    "not-reached": "not reached",
}
_WAKER = {
    "Wait": "the timer",
    "Callback": "the callback",
    "ChainedInvoke": "the chained invoke",
    "Step": "the retry back-off",
    "Context": "a child context",
}


@dataclass
class Cell:
    state: str  # one of STATES
    op_id: str
    invocation: int
    attempt: int | None = None
    summary: str = ""
    events: list[str] = field(default_factory=list)  # the event types this invocation saw
    notes: list[str] = field(default_factory=list)
    started_here: bool = False  # suspended on an operation this same invocation started
    confirmed: bool | None = None  # the SDK's replay record agrees (None: no record, or nothing to check)

    @property
    def label(self) -> str:
        return LABELS[self.state]


@dataclass
class Row:
    op_id: str
    name: str | None
    kind: str
    sub_type: str | None
    parent_id: str | None
    depth: int
    cells: list[Cell]


@dataclass
class Column:
    number: int
    request_id: str | None
    cold_start: bool | None
    duration_ms: float | None
    woken_by: str
    error_type: str | None
    in_progress: bool
    ended_execution: str | None

    @property
    def temperature(self) -> str:
        return {True: "cold", False: "warm"}.get(self.cold_start, "?")  # type: ignore[arg-type]


@dataclass
class Grid:
    rows: list[Row]
    columns: list[Column]


def operation_notes(op: Operation) -> list[str]:
    """What the SDK's replay recorder says against the history about this operation, if anything."""
    disagreement = getattr(op, "disagreement", None)
    return [f"the SDK's replay record disagrees: {disagreement}"] if disagreement else []


def _code_order(history: Iterable[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(op id, first facts) in code order, each child context's operations right under it."""
    facts: dict[str, dict[str, Any]] = {}
    for event in sorted((normalize_event(e) for e in history), key=lambda e: e.event_id):
        if event.op_id is None or event.kind in ("Execution", "Invocation"):
            continue
        fact = facts.setdefault(event.op_id, {"name": event.name, "kind": event.kind, "sub_type": event.sub_type, "parent_id": None})
        fact["parent_id"] = event.parent_id or fact["parent_id"]
    children: dict[str | None, list[str]] = {}
    for op_id, fact in facts.items():  # dicts keep insertion order: first event first
        parent = fact["parent_id"] if fact["parent_id"] in facts else None
        children.setdefault(parent, []).append(op_id)
    ordered: list[tuple[str, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for op_id in children.get(parent, []):
            if any(op_id == seen for seen, _ in ordered):
                continue
            ordered.append((op_id, {**facts[op_id], "depth": depth}))
            walk(op_id, depth + 1)

    walk(None, 0)
    return ordered


def woken_by(invocations: list[Invocation], index: int) -> str:
    """What started invocation `index` (0-based): the first start, a result the service recorded, a retry."""
    invocation = invocations[index]
    if index == 0:
        return "the first start"
    if invocation.resumed_by:
        return "; ".join(f"{_WAKER.get(op.kind, op.kind)} ({op.name or op.id[:8]})" for op in invocation.resumed_by)
    previous = invocations[index - 1]
    if previous.arrived_during:
        names = ", ".join(f"{_WAKER.get(op.kind, op.kind)} ({op.name or op.id[:8]})" for op in previous.arrived_during)
        return f"{names}, finished while invocation {previous.number} ran"
    retried = [op for op in previous.suspended_on if op.kind == "Step"]
    if retried:
        return "; ".join(f"the retry back-off ({op.name or op.id[:8]})" for op in retried)
    if previous.error_type:
        return f"the runner's retry after invocation {previous.number} failed ({previous.error_type})"
    return "not recorded"


def build_grid(timeline: Timeline, history: Iterable[Mapping[str, Any]]) -> Grid:
    """Rows from the history's operations, cells from the Timeline's invocations (see the module docstring)."""
    order = _code_order(history)
    descendants: dict[str, set[str]] = {op_id: set() for op_id, _ in order}
    for op_id, fact in order:
        parent = fact["parent_id"]
        while parent in descendants:
            descendants[parent].add(op_id)
            parent = next((f["parent_id"] for o, f in order if o == parent), None)

    per_invocation: list[dict[str, dict[str, Operation]]] = []
    for invocation in timeline.invocations:
        per_invocation.append(
            {
                kind: {op.id: op for op in getattr(invocation, kind)}
                for kind in ("suspended_on", "ran", "replayed", "arrived_during", "resumed_by")
            }
        )

    rows: list[Row] = []
    for op_id, fact in order:
        cells = []
        for invocation, sets in zip(timeline.invocations, per_invocation):
            cells.append(_cell(op_id, fact, invocation.number, sets, descendants[op_id]))
        rows.append(Row(op_id, fact["name"], fact["kind"], fact["sub_type"], fact["parent_id"], fact["depth"], cells))

    columns = [
        Column(
            number=inv.number,
            request_id=inv.request_id,
            cold_start=inv.cold_start,
            duration_ms=inv.duration_ms,
            woken_by=woken_by(timeline.invocations, i),
            error_type=inv.error_type,
            in_progress=inv.in_progress,
            ended_execution=inv.ended_execution,
        )
        for i, inv in enumerate(timeline.invocations)
    ]
    return Grid(rows, columns)


def _cell(op_id: str, fact: dict[str, Any], number: int, sets: dict[str, dict[str, Operation]], inner: set[str]) -> Cell:
    def of(kind: str) -> Operation | None:
        return sets[kind].get(op_id)

    ran, suspended, replayed, arrived = of("ran"), of("suspended_on"), of("replayed"), of("arrived_during")
    if suspended is not None:
        state, source = "suspended", suspended
    elif ran is not None:
        state, source = "ran", ran
    elif replayed is not None:
        state, source = "replayed", replayed
    elif fact["kind"] == "Context" and any(o in inner for kind in ("ran", "replayed", "suspended_on") for o in sets[kind]):
        state, source = "entered", None
    elif arrived is not None:
        state, source = "arrived", arrived
    else:
        state, source = "not-reached", None
    seen = [op for op in (of("resumed_by"), ran, arrived) if op is not None]
    events = [event for op in seen for event in op.events]
    notes = [note for op in (ran, suspended, replayed, arrived) if op is not None for note in operation_notes(op)]
    best = ran or source or arrived
    return Cell(
        state=state,
        op_id=op_id,
        invocation=number,
        attempt=(best.attempt if best else None),
        summary=(best.summary if best else ""),
        events=events,
        notes=list(dict.fromkeys(notes)),
        started_here=state == "suspended" and ran is not None,
        confirmed=_confirmed([op for op in (ran, suspended, replayed) if op is not None]),
    )


def _confirmed(shown: list[Operation]) -> bool | None:
    """False when the record disagrees with any section showing the operation, True when it agrees with all."""
    verdicts = [getattr(op, "confirmed", None) for op in shown]
    if any(v is False for v in verdicts):
        return False
    return True if verdicts and all(v is True for v in verdicts) else None
