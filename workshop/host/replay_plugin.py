"""The replay recorder: a durable SDK instrumentation plugin that notes what one invocation replayed and ran.

Why a plugin: the history says when each checkpoint was written, not which
invocation replayed what; the SDK knows. Loaded into every worker by
workshop.host.replay_recorder (no change to the handler), it reports one
record per invocation, which the host adds to the invocation's index entry.

What the SDK's public hooks say, and so what the record holds per operation:

- `on_invocation_start`'s `operations`: every checkpointed operation and its
  status as the invocation began (`status_at_start`; `is_replayed` is true for
  these). An operation that was already terminal is replayed: the SDK returns
  its stored result and fires no operation hook for it.
- `on_operation_start` with `is_replayed` false: this invocation checkpointed
  its START (`ran`).
- `on_user_function_start`: a step's own function ran (`ran`, `attempt`).
- `on_operation_end` and `on_invocation_end`'s `operations`: the status at the
  end (`status`). A step or context whose status changed while this
  invocation ran also counts as `ran` (a context it completed, a step it failed).
- `on_invocation_end`: why the invocation ended (SUCCEEDED, FAILED, PENDING,
  RETRY) and its error's type and message, cut short.

Ids, names and statuses only, never results or inputs, and at most
MAX_OPERATIONS operations (what it waits on, then what it ran, then what it
replayed; `omitted` counts the rest): the index is read whole on every query. Every hook guards itself: the SDK already logs and
ignores what a plugin raises, and this one never raises on purpose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from aws_durable_execution_sdk_python.plugin import (
    DurableInstrumentationPlugin,
    InvocationEndInfo,
    InvocationStartInfo,
    OperationEndInfo,
    OperationInfo,
    OperationStartInfo,
    OperationType,
    UserFunctionStartInfo,
)

RECORD_VERSION = 1
MAX_OPERATIONS = 200
MAX_TEXT = 200
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"})
LEAF_TYPES = frozenset({"STEP", "WAIT", "CALLBACK", "CHAINED_INVOKE"})
SDK_CLOSED_TYPES = frozenset({"STEP", "CONTEXT"})  # the invocation itself checkpoints their end


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status(info: OperationInfo) -> str | None:
    status = getattr(info, "status", None)
    return getattr(status, "value", None) if status is not None else None


class ReplayRecorder(DurableInstrumentationPlugin):
    """One invocation's recorder (the SDK builds one per invocation through RecorderFactory)."""

    def __init__(self, report: Callable[[dict[str, Any]], None]) -> None:
        self._report = report
        self._lock = threading.Lock()
        self._operations: dict[str, dict[str, Any]] = {}
        self._request_id: str | None = None
        self._execution_arn: str | None = None
        self._first: bool | None = None

    # ---- bookkeeping ------------------------------------------------------
    def _entry(self, info: OperationInfo) -> dict[str, Any] | None:
        """This operation's record, created on first sight; None for the execution itself."""
        if info.operation_type is OperationType.EXECUTION:
            return None
        entry = self._operations.get(info.operation_id)
        if entry is None:
            entry = {
                "id": info.operation_id,
                "name": _text(info.name),
                "type": info.operation_type.value,
                "sub_type": _text(info.sub_type),
                "parent_id": info.parent_id,
                "is_replayed": False,
                "status_at_start": None,
                "status": _status(info),
                "attempt": info.attempt,
                "ran": False,
            }
            self._operations[info.operation_id] = entry
        return entry

    def _merge_snapshot(self, operations: Iterable[OperationInfo], *, at_start: bool) -> None:
        for info in operations:
            entry = self._entry(info)
            if entry is None:
                continue
            status = _status(info)
            if at_start:
                entry["is_replayed"] = True  # checkpointed before this invocation began
                entry["status_at_start"] = status
            entry["status"] = status
            if info.attempt is not None:
                entry["attempt"] = info.attempt

    # ---- the SDK's hooks --------------------------------------------------
    def on_invocation_start(self, info: InvocationStartInfo) -> None:
        with self._lock:
            self._request_id = info.request_id
            self._execution_arn = info.execution_arn
            self._first = info.is_first_invocation
            self._merge_snapshot(info.operations.values(), at_start=True)

    def on_operation_start(self, info: OperationStartInfo) -> None:
        with self._lock:
            entry = self._entry(info)
            if entry is None:
                return
            if info.is_replayed:
                entry["is_replayed"] = True
            else:
                entry["ran"] = True
            entry["status"] = _status(info) or entry["status"]

    def on_user_function_start(self, info: UserFunctionStartInfo) -> None:
        with self._lock:
            entry = self._entry(info)
            if entry is None or info.operation_type is not OperationType.STEP:
                return  # a context's body re-runs on every replay: that alone is not running it
            entry["ran"] = True
            if info.attempt is not None:
                entry["attempt"] = info.attempt

    def on_operation_end(self, info: OperationEndInfo) -> None:
        with self._lock:
            entry = self._entry(info)
            if entry is None:
                return
            entry["status"] = _status(info) or entry["status"]
            if info.attempt is not None:
                entry["attempt"] = info.attempt

    def on_invocation_end(self, info: InvocationEndInfo) -> None:
        with self._lock:
            self._merge_snapshot(info.operations.values(), at_start=False)
            record = self._record(info)
        self._report(record)

    # ---- the record -------------------------------------------------------
    def _record(self, info: InvocationEndInfo) -> dict[str, Any]:
        operations = list(self._operations.values())
        for entry in operations:
            # This invocation changed it: completed a context, failed a step. (A wait, callback or
            # chained invoke is closed by the service, and its START already counted.)
            if entry["is_replayed"] and entry["type"] in SDK_CLOSED_TYPES and entry["status_at_start"] != entry["status"]:
                entry["ran"] = True
        suspended_on = [
            entry["id"]
            for entry in operations
            if entry["type"] in LEAF_TYPES and entry["status"] is not None and entry["status"] not in TERMINAL
        ]
        # Over the bound, keep what it waits on, then what it ran, before what it replayed.
        operations.sort(key=lambda e: 0 if e["status"] not in TERMINAL else 1 if e["ran"] else 2)
        kept = operations[:MAX_OPERATIONS]
        error = info.error
        return {
            "version": RECORD_VERSION,
            "request_id": self._request_id,
            "execution_arn": self._execution_arn,
            "first_invocation": self._first,
            "status": info.status.value,
            "error": {"type": _text(error.type), "message": _text(error.message)} if error is not None else None,
            "suspended_on": suspended_on[:MAX_OPERATIONS],
            "operations": kept,
            "omitted": len(operations) - len(kept),
        }
