"""Durable history events as plain data: one event normalised, a payload previewed, an event summarised.

Why a module of its own: the timeline (workshop.inspect.timeline), the CLI's
tables and the metrics all read timestamps and history events the same way;
here that reading lives once, with no I/O and no knowledge of invocations.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
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

_PREVIEW_CHARS = 500


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


def decode_payload(payload: Any) -> Any:
    """A stored payload as the value the code saw: JSON parsed, the SDK's typed envelope ({"t":..,"v":..}) decoded.

    Text that is not JSON is returned as it is; None stays None.
    """
    if payload is None:
        return None
    text = payload if isinstance(payload, str) else json.dumps(payload)
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict) and set(value) == {"t", "v"}:
        try:
            from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES

            value = EXTENDED_TYPES_SERDES.deserialize(text)
        except Exception:  # noqa: BLE001 - an undecodable envelope is shown as stored
            pass
    return value


def preview_payload(payload: Any) -> str | None:
    """Compact text for a result payload; the SDK's typed envelope ({"t":..,"v":..}) is decoded."""
    if payload is None:
        return None
    text = payload if isinstance(payload, str) else json.dumps(payload)
    try:
        json.loads(text)
    except ValueError:
        return text[:_PREVIEW_CHARS]
    return json.dumps(decode_payload(text), default=str, ensure_ascii=False)[:_PREVIEW_CHARS]


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
