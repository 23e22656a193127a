"""What the SDK's replay recorder says about one invocation, checked against the history-derived view.

Why: the timeline's `replayed` / `ran` / `suspended_on` are inferred from when
the history's checkpoints were written (workshop.inspect.timeline). The function
host also records, per invocation, what the durable SDK itself reported through
its instrumentation plugin hooks (workshop.host.replay_plugin): which operation
it replayed, which it ran, what it ended on. That is the ground truth for
replay; the history is the ground truth for what was checkpointed. So:

- the recorder's sections (operation ids) are matched to the history's by id;
  where both agree, the operation is marked `confirmed`;
- where they disagree the history wins: the section shows what the history
  says, the operation is marked `confirmed=False` with a `disagreement` giving
  both sides (for one the recorder names and the history does not place here,
  only the note), and the timeline gets a note;
- the invocation gets what only the SDK can say: how it ended (`ended_as`:
  SUCCEEDED, FAILED, PENDING, RETRY; `ended_error`), and `replay_source` says
  whether its sections were checked against the recorder;
- an index entry without a record (before the recorder, a worker that died,
  a non-durable handler) leaves the history-derived view as it was.

Pure functions over the index entry's "replay" field and the assembled
invocation, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # timeline imports this module; the types are only for reading
    from workshop.inspect.timeline import Invocation, Operation

RECORD_VERSION = 1
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"})
SECTIONS = ("replayed", "ran", "suspended_on")
_WORDS = {"replayed": "replayed", "ran": "ran", "suspended_on": "suspended on"}


@dataclass
class Recorded:
    """One invocation as the recorder saw it: its sections (operation ids) and how it ended."""

    status: str | None  # SUCCEEDED | FAILED | PENDING | RETRY
    error: str | None
    sections: dict[str, list[str]]
    operations: dict[str, dict[str, Any]]
    complete: bool  # False when the recorder kept only some operations (its bound)

    def placed(self, op_id: str) -> set[str]:
        return {section for section, ids in self.sections.items() if op_id in ids}


def recorded(entry: Mapping[str, Any] | None) -> Recorded | None:
    """The index entry's record, or None when it has none (or one this reader does not know)."""
    record = (entry or {}).get("replay")
    if not isinstance(record, Mapping) or record.get("version") != RECORD_VERSION:
        return None
    operations = {op["id"]: op for op in record.get("operations") or [] if isinstance(op, Mapping) and op.get("id")}
    error = record.get("error") or None
    return Recorded(
        status=record.get("status"),
        error=": ".join(part for part in (error.get("type"), error.get("message")) if part) if error else None,
        sections={
            "replayed": [
                i for i, op in operations.items() if op.get("is_replayed") and op.get("status_at_start") in TERMINAL and not op.get("ran")
            ],
            "ran": [i for i, op in operations.items() if op.get("ran")],
            "suspended_on": [i for i in record.get("suspended_on") or [] if isinstance(i, str)],
        },
        operations=operations,
        complete=not record.get("omitted"),
    )


def _label(op_id: str, rec: Recorded, shown: Mapping[str, Operation]) -> str:
    name = (shown[op_id].name if op_id in shown else None) or rec.operations.get(op_id, {}).get("name")
    return name or op_id[:12]


def _says(sections: set[str]) -> str:
    return ", ".join(_WORDS[s] for s in SECTIONS if s in sections) or "neither ran nor replayed"


def reconcile(invocation: Invocation, rec: Recorded) -> list[str]:
    """Mark each operation of the invocation as the recorder confirms or contradicts it; the notes for the latter.

    The sections keep the history's operations (history wins); the recorder's
    status and error of the invocation are added as `ended_as` / `ended_error`.
    """
    invocation.replay_source = "recorder"
    invocation.ended_as = rec.status
    invocation.ended_error = rec.error
    in_history: dict[str, set[str]] = {}
    shown: dict[str, Operation] = {}
    for section in SECTIONS:
        for op in getattr(invocation, section):
            in_history.setdefault(op.id, set()).add(section)
            shown.setdefault(op.id, op)
    notes: list[str] = []
    for op_id in [*in_history, *(i for ids in rec.sections.values() for i in ids if i not in in_history)]:
        history_says, recorder_says = in_history.get(op_id, set()), rec.placed(op_id)
        knows = op_id in rec.operations or rec.complete  # beyond its bound the recorder has no say
        attempt = _attempt_disagreement(shown.get(op_id), rec.operations.get(op_id), history_says & recorder_says)
        for section in history_says if knows else ():
            for op in (o for o in getattr(invocation, section) if o.id == op_id):
                if section not in recorder_says:
                    op.confirmed, op.disagreement = False, f"history: {_says(history_says)}; SDK recorder: {_says(recorder_says)}"
                elif section == "ran" and attempt:
                    op.confirmed, op.disagreement = False, attempt
                else:
                    op.confirmed = True
        placement = f"the history says {_says(history_says)}, the SDK's recorder says {_says(recorder_says)}"
        if knows and (history_says != recorder_says or attempt):
            detail = "; ".join(part for part in (placement if history_says != recorder_says else None, attempt) if part)
            notes.append(
                f"Invocation {invocation.number}: {_label(op_id, rec, shown)} — {detail}; shown as the history has it."
            )
    if not rec.complete:
        notes.append(f"Invocation {invocation.number}: the SDK's recorder kept only some operations; the others are as the history has them.")
    return notes


def _attempt_disagreement(op: Operation | None, record: Mapping[str, Any] | None, agreed: set[str]) -> str | None:
    """A step both sides say ran, on different attempts."""
    if op is None or record is None or "ran" not in agreed or op.kind != "Step":
        return None
    theirs = record.get("attempt")
    if op.attempt is None or theirs is None or op.attempt == theirs:
        return None
    return f"the history says attempt {op.attempt}, the SDK's recorder says attempt {theirs}"
