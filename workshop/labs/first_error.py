"""The first error the learner's code raised in a live run: found in the recorded data, cut to the learner's frames.

Why: a learner's mistake inside a step is retried with back-offs, and one in a
step that feeds Powertools may leave the execution waiting; waiting for the
end then costs a minute and ends in a deadline message that names the wrong
cause. The error itself is recorded at once, so `make lab-N` stops there:

- the durable history (GetDurableExecutionHistory) holds every failed step
  attempt (`StepFailed`: the error's type and message, and `RetryDetails`
  when another attempt is scheduled) and the execution's own failure; the
  `InvocationCompleted` after it names the invocation (request id);
- the function host's invocation index holds the invocations Lambda itself
  failed (`error_type`: an exception above `@durable_execution`, a crash);
- the function's log lines hold the traceback (the SDK logs every failed step
  attempt and a failed execution with `logger.exception`), which is where the
  learner's `handler.py` line is.

The SDK's replay recorder (the index entry's "replay") names neither the
failed attempt's error nor its traceback, so it is not read here.

Errors the lab's payload asks for on purpose (the payment service's simulated
transient failures, which make retries visible) are the lesson, not the
learner's mistake: they are skipped.

Pure functions over recorded shapes, no I/O (run.py does the reading).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

# Raised on purpose by the services when the payload's "simulate" field asks for it.
EXPECTED_ERRORS = frozenset({"PaymentTransientError", "PaymentDeclinedError"})
# Lambda's own verdict on an invocation that ran too long: deadlines.py names the step that did not return.
NOT_RAISED = frozenset({"Sandbox.Timedout"})

_FILE = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')
_CARETS = re.compile(r"^\s*[\^~\s]+$")
_TRACEBACK = "Traceback (most recent call last):"
_CHAINS = ("The above exception was the direct cause of the following exception:", "During handling of the above exception, another exception occurred:")
SDK_PACKAGE = "aws_durable_execution_sdk_python"  # its frames and exceptions re-raise the learner's: never the cause


# ------------------------------------------------------------------ model
@dataclass(frozen=True)
class Frame:
    """One frame of a traceback: where, and the line of code Python printed for it."""

    file: str
    line: int
    function: str
    code: str = ""


@dataclass(frozen=True)
class Segment:
    """One "Traceback (most recent call last):" section: its frames, outermost first, and the exception line."""

    frames: tuple[Frame, ...]
    exception: str  # "NameError: name 'metric' is not defined"
    chained: bool = False  # raised while handling the section before it ("direct cause", "during handling")

    @property
    def exception_type(self) -> str:
        return short_type(self.exception.split(":", 1)[0].strip())


@dataclass(frozen=True)
class RecordedError:
    """An error as the history or the invocation index recorded it (no traceback)."""

    error_type: str  # as recorded: NameError, aws_durable_execution_sdk_python.exceptions.SerDesError
    message: str
    at: float  # epoch seconds
    step: str | None = None  # the failed step's name; None: the handler itself, or Lambda
    attempt: int | None = None
    retry_in_s: float | None = None  # another attempt is scheduled (a retried step)
    request_id: str | None = None  # the invocation it happened in, when the history or the index says
    source: str = "step"  # step | execution | invocation

    @property
    def short_type(self) -> str:
        return short_type(self.error_type)


@dataclass(frozen=True)
class FirstError:
    """What `make lab-N` reports: the error, where in the learner's file, and one traceback cut to the learner's frames."""

    error: RecordedError
    invocation: int | None  # 1-based, in start order
    frames: tuple[Frame, ...]  # the learner's frames, outermost first (may be empty: raised elsewhere)
    raised_in: Frame | None  # the innermost frame of the traceback (where Python raised it), any file
    cause: str | None = None  # the exception it wraps, when a library re-raised the learner's as its own

    @property
    def headline(self) -> str:
        """The cause the learner can act on: the wrapped exception when a library wrapped it (Powertools does)."""
        if self.cause:
            return self.cause
        return f"{self.error.short_type}: {self.error.message}" if self.error.message else self.error.short_type

    @property
    def line(self) -> Frame | None:
        """The learner's innermost frame: the handler.py line that raised (or called what raised)."""
        return self.frames[-1] if self.frames else None

    @property
    def where(self) -> str:
        """In which part of the run: a step's attempt, the handler body, or Lambda's invocation."""
        error = self.error
        invocation = f"invocation {self.invocation}" if self.invocation else "an invocation"
        wrapped = f" (raised on as {error.short_type})" if self.cause else ""
        if error.step:
            attempt = f", attempt {error.attempt}{wrapped}" if error.attempt else wrapped
            retry = f" (another attempt was due in {error.retry_in_s:g} s: stopped)" if error.retry_in_s else ""
            return f"step `{error.step}`{attempt}, in {invocation}{retry}"
        if error.source == "invocation":
            return f"{invocation}, before or after the durable handler (Lambda reported it)"
        return f"the handler, outside any step, in {invocation}{wrapped}"

    def traceback_text(self, handler_name: str = "handler.py") -> str:
        """One traceback, the learner's frames only; where Python raised it when that is another file."""
        lines = [f"Traceback (your {handler_name}'s frames):"]
        for frame in self.frames:
            lines.append(f'  {handler_name} line {frame.line}, in {frame.function}')
            if frame.code:
                lines.append(f"    {frame.code}")
        raised = self.raised_in
        if raised is not None and (not self.frames or raised != self.frames[-1]) and SDK_PACKAGE not in raised.file:
            lines.append(f"  … raised in {PurePath(raised.file).name} line {raised.line}, in {raised.function}")
        if len(lines) == 1:
            lines.append("  (no frame of yours: the error was raised before your code ran)")
        lines.append(self.headline)
        return "\n".join(lines)


def short_type(error_type: str) -> str:
    """`aws_durable_execution_sdk_python.exceptions.SerDesError` -> `SerDesError`; `Sandbox.Timedout` stays."""
    if "." in error_type and error_type.rsplit(".", 1)[0].islower():
        return error_type.rsplit(".", 1)[1]
    return error_type


# ------------------------------------------------------ reading log lines
def segments(lines: Iterable[str]) -> list[Segment]:
    """Every traceback section in these log lines, in order (chained exceptions are sections of their own).

    Plain text as the SDK's `logger.exception` prints it (one log line per
    line), a JSON line with Powertools Logger's `exception` text, or Lambda's
    error JSON (`errorType`, `errorMessage`, `stackTrace`).
    """
    found: list[Segment] = []
    frames: list[Frame] | None = None
    chained = False
    for raw in _expanded(lines):
        if isinstance(raw, Segment):
            found.append(raw)
            frames = None
            continue
        line = raw.rstrip("\n")
        if line.strip() in _CHAINS:
            chained = bool(found)
            continue
        if line.strip() == _TRACEBACK:
            frames = []
            continue
        if frames is None:
            continue
        match = _FILE.match(line)
        if match:
            frames.append(Frame(match["file"], int(match["line"]), match["function"].strip()))
        elif line.startswith("    ") and frames and not frames[-1].code and not _CARETS.match(line):
            last = frames[-1]
            frames[-1] = Frame(last.file, last.line, last.function, line.strip())
        elif _CARETS.match(line) or not line.strip():
            continue
        elif not line.startswith(" "):
            found.append(Segment(tuple(frames), line.strip(), chained))
            frames, chained = None, False
    return found


def _expanded(lines: Iterable[str]) -> Iterable[str | Segment]:
    """Log lines with the JSON ones opened: their exception text as lines, Lambda's error as a section."""
    for line in lines:
        text = line.strip()
        if not (text.startswith("{") and text.endswith("}")):
            yield from line.splitlines() or [line]
            continue
        try:
            value = json.loads(text)
        except ValueError:
            yield line
            continue
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("exception"), str):
            yield from value["exception"].splitlines()
        elif value.get("errorType") and isinstance(value.get("stackTrace"), list):
            frames = [frame for entry in value["stackTrace"] for frame in segments([_TRACEBACK, *str(entry).splitlines(), "x"])[0].frames]
            exception = f"{value['errorType']}: {value.get('errorMessage', '')}".rstrip(": ")
            yield Segment(tuple(frames), exception)


def is_learners(frame: Frame, handler: PurePath) -> bool:
    """Whether the frame is in the learner's file: the same lab folder and file name (the stack may mount it elsewhere)."""
    path = PurePath(frame.file)
    return path.name == handler.name and path.parent.name == handler.parent.name


# -------------------------------------------------------- reading records
def recorded_errors(events: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]],
                    expected: Iterable[str] = EXPECTED_ERRORS) -> list[RecordedError]:  # fmt: skip
    """The errors the learner's code raised, first first: failed step attempts, a failed execution, failed invocations.

    A failed execution after failed steps is their consequence (the SDK's
    StepError): it is listed only when no step failed before it. A step that
    failed for good is listed only once the execution failed too: the handler
    may have caught it (a saga compensating), and then it is no mistake.
    """
    from workshop.inspect.events import _detail, normalize_event

    skip = frozenset(expected)
    ordered = sorted((normalize_event(e) for e in events), key=lambda e: e.event_id)
    failed = any(e.type == "ExecutionFailed" for e in ordered)
    found: list[RecordedError] = []
    pending: list[RecordedError] = []  # not yet placed in an invocation: the next InvocationCompleted names it
    for event in ordered:
        detail = _detail(event)
        if event.type == "InvocationCompleted":
            request = detail.get("RequestId")
            found.extend(RecordedError(**{**e.__dict__, "request_id": e.request_id or request}) for e in pending)
            pending = []
            continue
        if event.type not in ("StepFailed", "ExecutionFailed"):
            continue
        kind, message = _error_parts(detail.get("Error"))
        if short_type(kind) in skip:
            continue
        if event.type == "StepFailed":
            retry = (detail.get("RetryDetails") or {})
            delay = retry.get("NextAttemptDelaySeconds")
            if not delay and not failed:
                continue
            pending.append(RecordedError(kind, message, event.timestamp, step=event.name, attempt=retry.get("CurrentAttempt"),
                                         retry_in_s=float(delay) if delay else None))  # fmt: skip
        elif not any(e.source == "step" for e in [*found, *pending]):
            pending.append(RecordedError(kind, message, event.timestamp, source="execution"))
    found.extend(pending)
    for entry in entries:
        kind = entry.get("error_type")
        if kind and kind not in NOT_RAISED and short_type(str(kind)) not in skip:
            found.append(RecordedError(str(kind), "", float(entry.get("end") or 0.0), request_id=entry.get("request_id"), source="invocation"))
    found.sort(key=lambda e: e.at)
    return found


def _error_parts(error: Any) -> tuple[str, str]:
    if isinstance(error, Mapping) and "Payload" in error:
        error = error["Payload"]
    if isinstance(error, Mapping):
        return str(error.get("ErrorType") or "Error"), str(error.get("ErrorMessage") or "")
    return "Error", str(error or "")


def first_error(events: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]], logs: Mapping[str, list[str]],
                handler: PurePath, expected: Iterable[str] = EXPECTED_ERRORS) -> FirstError | None:  # fmt: skip
    """The first error the learner's code raised, with its traceback cut to the learner's frames; None: none recorded.

    The traceback is looked for in the log lines of the invocation it happened
    in (all invocations' when the record does not say which): the first
    section with a frame in the learner's file, else the first whose
    exception is this error's type.
    """
    errors = recorded_errors(events, entries, expected)
    if not errors:
        return None
    error = errors[0]
    ordered = sorted(entries, key=lambda e: e.get("start") or 0.0)
    numbers = {entry.get("request_id"): n for n, entry in enumerate(ordered, start=1)}
    if error.request_id is None:  # no InvocationCompleted after it: the last invocation started before it
        holder = next((e for e in reversed(ordered) if (e.get("start") or 0.0) <= error.at), None)
        if holder is not None:
            error = RecordedError(**{**error.__dict__, "request_id": holder.get("request_id")})
    lines = logs.get(error.request_id or "", []) if error.request_id in logs else [line for e in ordered for line in logs.get(e.get("request_id") or "", [])]
    if not error.message and error.source == "invocation":
        error = _message_from_logs(error, lines)
    found = segments(lines)
    chosen = _traceback_for(error, found, handler)
    cause = _root_cause(found, chosen) if chosen else None
    frames = tuple(f for f in chosen.frames if is_learners(f, handler)) if chosen else ()
    if not frames and cause is not None:
        frames = tuple(f for f in cause.frames if is_learners(f, handler))
    raised = (cause or chosen).frames[-1] if chosen and (cause or chosen).frames else None
    return FirstError(error=error, invocation=numbers.get(error.request_id), frames=frames, raised_in=raised,
                      cause=cause.exception if cause is not None else None)  # fmt: skip


def _root_cause(found: list[Segment], chosen: Segment) -> Segment | None:
    """The first section of the chain `chosen` ends, when it is another exception and not the SDK's own re-raise."""
    at = found.index(chosen)
    start = at
    while start > 0 and found[start].chained:
        start -= 1
    root = found[start]
    if start == at or root.exception_type == chosen.exception_type or root.exception.startswith(SDK_PACKAGE):
        return None
    return root


def _traceback_for(error: RecordedError, found: list[Segment], handler: PurePath) -> Segment | None:
    name = error.short_type

    def same_error(segment: Segment) -> bool:
        return short_type(segment.exception.split(":", 1)[0].strip()) == name

    def mine(segment: Segment) -> bool:
        return any(is_learners(f, handler) for f in segment.frames)

    return (
        next((s for s in found if same_error(s) and mine(s)), None)
        or next((s for s in found if mine(s)), None)
        or next((s for s in found if same_error(s)), None)
    )


def _message_from_logs(error: RecordedError, lines: list[str]) -> RecordedError:
    """Lambda's error line (the host appends it to the log) for an invocation the index only gives a type for."""
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("errorType") == error.error_type:
            return RecordedError(**{**error.__dict__, "message": str(value.get("errorMessage") or "")})
    return error


# --------------------------------------------------- what it waits on
@dataclass
class _Open:
    kind: str
    name: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    retry: bool = False


def waiting_on(events: Sequence[Mapping[str, Any]]) -> str:
    """What an execution that has not ended waits on, from its history: "callback `approval` (timeout 300 s)", …; "" when nothing is open."""
    from workshop.inspect.events import _detail, normalize_event

    open_ops: dict[str, _Open] = {}
    for event in sorted((normalize_event(e) for e in events), key=lambda e: e.event_id):
        if event.kind not in ("Step", "Wait", "Callback", "ChainedInvoke") or not event.op_id:
            continue
        detail = _detail(event)
        if event.type.endswith("Started"):
            open_ops[event.op_id] = _Open(event.kind, event.name, detail)
        elif event.type == "StepFailed" and (detail.get("RetryDetails") or {}).get("NextAttemptDelaySeconds"):
            open_ops[event.op_id] = _Open("Step", event.name, detail, retry=True)
        else:
            open_ops.pop(event.op_id, None)
    parts = []
    for op in open_ops.values():
        label = f"`{op.name}`" if op.name else "(unnamed)"
        if op.kind == "Callback":
            timeout = op.detail.get("Timeout")
            parts.append(f"callback {label}" + (f" (timeout {timeout} s): nobody answered it" if timeout else ": nobody answered it"))
        elif op.kind == "Wait":
            parts.append(f"wait {label}" + (f" ({op.detail['Duration']} s)" if op.detail.get("Duration") else ""))
        elif op.kind == "ChainedInvoke":
            parts.append(f"chained invoke {label}" + (f" of {op.detail['FunctionName']}" if op.detail.get("FunctionName") else ""))
        elif op.retry:
            parts.append(f"the next attempt of step {label}")
        else:
            parts.append(f"step {label}, which had not returned")
    return ", ".join(parts)
