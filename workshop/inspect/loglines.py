"""The log lines of invocations: a stream cut by request id, a JSON line split into level, message and keys.

Why a module of its own: the timeline, the metrics and the stack's client all
cut CloudWatch log streams with Lambda's START / END / REPORT framing; the
framing and the parsing of one line live here, with no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class LogLine:
    """One line the handler printed; JSON lines are split into level, message and a few keys."""

    text: str
    is_json: bool = False
    level: str | None = None
    message: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


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
