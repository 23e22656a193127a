"""A durable execution's history reduced to what two runs of the same handler must share.

Both sides give GetDurableExecutionHistory's event shape: boto3's response
from the live stack, `GetDurableExecutionHistoryResponse.to_dict()` from
DurableFunctionTestRunner. `normalise` keeps, per event, only the compared
fields: the operation (its name path from the root, e.g. "doubles/item-3/double"),
the event type (operation type + status), the subtype, attempts and retry
delays, inputs, results and errors, and the configured durations.

Left out on purpose: ids, parent ids, event ids, timestamps, callback ids,
the execution's name and ARN (they differ on every run), stack traces (they
name the file the code was loaded from), and InvocationCompleted events (how
many invocations an execution takes depends on timing, not on the handler).

Order: an operation's own events stay in the order they happened, followed
by its children. Siblings keep the order they started in, except the
branches of a Map or Parallel, which run concurrently and are sorted by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

# Payloads longer than this are compared by length and digest, so a diff stays readable.
LONG_PAYLOAD = 200
CONCURRENT_PARENTS = frozenset({"Map", "Parallel"})
IGNORED_EVENTS = frozenset({"InvocationCompleted"})
EXECUTION = "(execution)"

# Within an event's <Kind>Details: the fields compared, and how each is reduced.
_PAYLOAD_FIELDS = ("Input", "Result")
_ERROR_FIELDS = ("ErrorType", "ErrorMessage", "ErrorData")
_PLAIN_FIELDS = ("Duration", "Timeout", "HeartbeatTimeout", "ExecutionTimeout", "FunctionName")


def _payload(value: Any) -> Any:
    if isinstance(value, str) and len(value) > LONG_PAYLOAD:
        return f"<{len(value)} chars, sha256 {hashlib.sha256(value.encode()).hexdigest()[:16]}>"
    return value


def _details(event: Mapping[str, Any]) -> dict[str, Any]:
    """The compared fields of the one `...Details` member an event carries."""
    details = next((value for key, value in event.items() if key.endswith("Details") and isinstance(value, Mapping)), {})
    kept: dict[str, Any] = {}
    for field in _PAYLOAD_FIELDS:
        if field in details:
            kept[field] = {"Payload": _payload(details[field].get("Payload")), "Truncated": details[field].get("Truncated")}
    if "Error" in details:
        error = details["Error"].get("Payload") or {}
        kept["Error"] = {key: error[key] for key in _ERROR_FIELDS if error.get(key) is not None}
        kept["Error"]["Truncated"] = details["Error"].get("Truncated")
    if "RetryDetails" in details:
        retry = details["RetryDetails"]
        kept["RetryDetails"] = {key: retry[key] for key in ("CurrentAttempt", "NextAttemptDelaySeconds") if key in retry}
    kept.update({field: details[field] for field in _PLAIN_FIELDS if field in details})
    return kept


def _name(event: Mapping[str, Any]) -> str:
    if event["EventType"].startswith("Execution"):
        return EXECUTION
    return event.get("Name") or f"<{event.get('SubType', 'unnamed')}>"


def _paths(events: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Operation id -> its name path from the root ("parent/child"), by the name its first event gives."""
    parents: dict[str, str | None] = {}
    names: dict[str, str] = {}
    for event in events:
        op_id = event.get("Id")
        if op_id is None or op_id in names:
            continue
        names[op_id] = _name(event)
        parents[op_id] = None if event["EventType"].startswith("Execution") else event.get("ParentId")

    def path(op_id: str) -> str:
        parent = parents.get(op_id)
        return names[op_id] if parent is None or parent not in names else f"{path(parent)}/{names[op_id]}"

    return {op_id: path(op_id) for op_id in names}


def _op(event: Mapping[str, Any], paths: Mapping[str, str]) -> str:
    """The event's own name under its parent's path: an operation whose events disagree on its name shows it."""
    parent = None if event["EventType"].startswith("Execution") else event.get("ParentId")
    return f"{paths[parent]}/{_name(event)}" if parent in paths else _name(event)


def normalise(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The history as a list of compared events, one dict each, in the order described above."""
    events = [event for event in events if event["EventType"] not in IGNORED_EVENTS]
    paths = _paths(events)
    own: dict[str, list[dict[str, Any]]] = {}
    children: dict[str | None, list[str]] = {}
    subtypes: dict[str, str | None] = {}
    for event in events:
        op_id = event.get("Id") or EXECUTION
        if op_id not in own:
            own[op_id] = []
            subtypes[op_id] = event.get("SubType")
            parent = None if event["EventType"].startswith("Execution") else event.get("ParentId")
            children.setdefault(parent if parent in paths else None, []).append(op_id)
        compared = {"op": _op(event, paths), "event": event["EventType"]}
        if event.get("SubType") is not None:
            compared["subtype"] = event["SubType"]
        compared.update(_details(event))
        own[op_id].append(compared)

    ordered: list[dict[str, Any]] = []

    def visit(parent: str | None) -> None:
        kids = children.get(parent, [])
        if parent is not None and subtypes.get(parent) in CONCURRENT_PARENTS:
            kids = sorted(kids, key=lambda op_id: paths[op_id])
        for op_id in kids:
            ordered.extend(own[op_id])
            visit(op_id)

    visit(None)
    return ordered
