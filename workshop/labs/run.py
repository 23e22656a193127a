"""One execution of a lab's handler and what it printed, per invocation.

Two ways to get one, with the same shape (`ExecutionRun`), so a stage check
can be written once:
- in-process, through the harness of the lab's service (workshop/labs/harness/:
  DurableFunctionTestRunner + the in-process AWS fakes, in about a second);
- live, here: a real durable execution on the local stack, through the
  function host, with the log lines read back from CloudWatch Logs
  (harness/live.py registers the lab's function first).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pathlib import Path

from workshop.inspect import TERMINAL
from workshop.labs.deadlines import StuckError, timed_out_text, unfinished_step
from workshop.labs.first_error import EXPECTED_ERRORS, FirstError, first_error, recorded_errors, waiting_on

_FRAMING = ("START RequestId:", "END RequestId:", "REPORT RequestId:", "INIT_START", "EXTENSION")


@dataclass
class ExecutionRun:
    """An execution: its ARN, status, result, and the lines each invocation printed."""

    arn: str
    status: str
    result: Any
    error: Any
    invocations: list[list[str]] = field(default_factory=list)
    # the function it ran as on the stack ("" in-process): `lab-N-topic`, or `...-solution` for LAB_TARGET=solution
    function: str = ""

    def records(self) -> list[list[dict[str, Any]]]:
        """The JSON lines of each invocation (structured logs and EMF), parsed; others skipped."""
        parsed = []
        for lines in self.invocations:
            records = []
            for line in lines:
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    records.append(value)
            parsed.append(records)
        return parsed

    def log_records(self) -> list[list[dict[str, Any]]]:
        """Only log records (they have a message), not EMF metric records."""
        return [[r for r in records if "message" in r and "_aws" not in r] for records in self.records()]

    def emf_records(self) -> list[list[dict[str, Any]]]:
        return [[r for r in records if "_aws" in r] for records in self.records()]

    def all_lines(self) -> list[str]:
        return [line for lines in self.invocations for line in lines]


# ------------------------------------------------------------------------ live
def run_live(config: Any, function: str, payload: dict[str, Any], deadline_s: float = 120.0) -> ExecutionRun:
    """Start a real execution on the stack, wait for its end, read back each invocation's lines."""
    return read_live(config, function, start_live(config, function, payload), deadline_s)


START_TIMEOUT_S = 30.0  # an Event invoke answers at once; a host this slow is reported, not waited on


def start_live(config: Any, function: str, payload: dict[str, Any]) -> str:
    """Start a real execution of `function` on the stack (an Event invoke): its ARN, at once.

    Lambda's Invoke as the function host serves it, over plain HTTP rather than
    boto3: importing boto3 and building a client took 0.45 s before the
    execution started (make lab-N's profile); the reads that follow still use
    boto3, while the execution runs.
    """
    import urllib.error
    import urllib.parse
    import urllib.request

    if "order_id" in payload:
        # The stack's tables outlive a run: a fresh order id keeps this run's
        # simulated failures (counted per order) from being used up by the last.
        payload = {**payload, "order_id": f"{payload['order_id']}-{uuid.uuid4().hex[:8]}"}
    name = urllib.parse.quote(f"{function}:$LATEST", safe="")
    request = urllib.request.Request(
        f"{config.host_url}/2015-03-31/functions/{name}/invocations", data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=START_TIMEOUT_S) as response:
            arn = response.headers.get("X-Amz-Durable-Execution-Arn")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"the function host did not start {function}: HTTP {exc.code} {exc.read().decode(errors='replace')}") from None
    if not arn:
        raise RuntimeError(f"the function host started no durable execution of {function} (is it durable?)")
    return arn


class RunFailed(Exception):
    """The learner's code raised in a live run (make lab-N stops there): the first error, the execution stopped."""

    def __init__(self, first: FirstError, arn: str, ended: bool) -> None:
        super().__init__(first.headline)
        # ended: the execution ended (FAILED) on its own; else make lab-N stopped it (a retry was due, or it would wait)
        self.first, self.arn, self.ended = first, arn, ended


def read_live(config: Any, function: str, arn: str, deadline_s: float = 120.0, handler: Path | None = None,
              expected: frozenset[str] = EXPECTED_ERRORS) -> ExecutionRun:  # fmt: skip
    """An execution already started on the stack: wait for its end, read back each invocation's lines.

    Never a bare "still RUNNING": an invocation the function host stopped at
    the function's timeout (`Sandbox.Timedout`) ends the wait at once, and so
    does the deadline; either way the execution is stopped on the stack (no
    more retried invocations spinning a worker) and the StuckError says which
    step did not return, in which invocations, or what the execution waits on.

    `handler` (make lab-N): the learner's file; the history is followed four
    times a second and the first error the code raised (a failed step attempt,
    with a retry scheduled or not, a failed execution or invocation) ends the
    wait at once with RunFailed, the execution stopped: its retries' back-offs
    are not waited out (first_error.py says where each error is recorded).
    """
    from workshop.config import boto3_client
    from workshop.inspect import Services, fetch_history, invocation_logs

    lam = boto3_client("lambda", config)
    services = Services(config=config)
    deadline = time.monotonic() + deadline_s
    next_look = 0.0
    while True:
        detail = lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
        terminal = detail["Status"] in TERMINAL
        now = time.monotonic()
        if terminal or now >= next_look:  # the invocation index (and history): a timeout ends the wait
            next_look = now + (0.25 if handler is not None else 0.5)
            entries = services.invocations(execution_arn=arn)
            timed_out = _timed_out(entries)
            if timed_out:
                raise StuckError(_stuck(lam, arn, function, config, timed_out, terminal))
            errors = recorded_errors(fetch_history(services, arn), entries, expected) if handler is not None else []
            if errors:
                # a failed execution ended on its own, even when the status read above came a moment before it
                ended = terminal or any(e.source == "execution" for e in errors) or _ended(lam, arn)
                raise RunFailed(_first_error(lam, services, arn, ended, handler, expected), arn, ended)
        if terminal:
            break
        if now > deadline:
            raise StuckError(_stuck(lam, arn, function, config, [], False, deadline_s, detail["Status"]))
        time.sleep(0.1)
    entries = services.invocations(execution_arn=arn)
    by_request, problems = invocation_logs(services, entries)
    if problems:
        raise AssertionError("; ".join(problems))
    invocations = [
        [line for line in by_request.get(entry["request_id"], []) if not line.startswith(_FRAMING)]
        for entry in sorted(entries, key=lambda e: e["start"])
    ]
    result = json.loads(detail["Result"]) if detail.get("Result") else None
    return ExecutionRun(arn=arn, status=detail["Status"], result=result, error=detail.get("Error"), invocations=invocations, function=function)


def _ended(lam: Any, arn: str) -> bool:
    """The execution's status read again: it may have ended between the status read and the history read."""
    try:
        return lam.get_durable_execution(DurableExecutionArn=arn)["Status"] in TERMINAL
    except Exception:  # noqa: BLE001 - then it is stopped, which is what an unknown status needs
        return False


LOGS_WAIT_S = 3.0  # the failed invocation's end (its log lines shipped): it suspends right after a failed attempt


def _first_error(lam: Any, services: Any, arn: str, terminal: bool, handler: Path, expected: frozenset[str]) -> FirstError:
    """Stop the execution (no retries), wait for the invocation that raised to end, read its traceback."""
    from workshop.inspect import fetch_history, invocation_logs

    if not terminal:
        try:
            lam.stop_durable_execution(DurableExecutionArn=arn, Error={"ErrorType": "LabFirstError", "ErrorMessage": "stopped by make lab-N at the first error"})
        except Exception:  # noqa: BLE001 - it may have ended meanwhile
            pass
    give_up = time.monotonic() + LOGS_WAIT_S
    while True:
        events, entries = fetch_history(services, arn), services.invocations(execution_arn=arn)
        errors = recorded_errors(events, entries, expected)
        ended = errors and any((e.get("end") or 0.0) >= errors[0].at for e in entries)
        if ended or time.monotonic() >= give_up:
            break
        time.sleep(0.1)
    try:
        logs, _problems = invocation_logs(services, entries)
    except Exception:  # noqa: BLE001 - the error's type and message stand without the traceback
        logs = {}
    found = first_error(events, entries, logs, handler, expected)
    assert found is not None  # recorded_errors found it above; the history only grows
    return found


def _timed_out(entries: list[dict[str, Any]]) -> list[int]:
    """1-based numbers of the invocations the function host stopped at the function's timeout."""
    ordered = sorted(entries, key=lambda e: e["start"])
    return [n for n, entry in enumerate(ordered, start=1) if entry.get("error_type") == "Sandbox.Timedout"]


def _stuck(lam: Any, arn: str, function: str, config: Any, timed_out: list[int], terminal: bool,
           deadline_s: float = 0.0, status: str = "") -> str:  # fmt: skip
    """The cause of a stuck live run, after stopping the execution (so nothing keeps retrying it)."""
    try:
        events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    except Exception:  # noqa: BLE001 - naming the step is a help; the timeout is the fact
        events = []
    step = unfinished_step(events)
    if not terminal:
        try:
            lam.stop_durable_execution(DurableExecutionArn=arn, Error={"ErrorType": "LabDeadline", "ErrorMessage": "stopped by make lab-N"})
        except Exception:  # noqa: BLE001 - it may have ended meanwhile
            pass
    if timed_out:
        timeout_s = float(_function_setting(config, function, "timeout", 3))
        cause = timed_out_text(step, timeout_s, timed_out)
    else:
        waits = waiting_on(events)
        where = f"it was waiting on {waits}" if waits else f"step `{step}` had not returned" if step else "it was waiting"
        cause = f"the execution was still {status} after {deadline_s:.0f} s ({where})"
    return f"{cause} (the execution is stopped)"


def _function_setting(config: Any, function: str, key: str, default: Any) -> Any:
    from workshop import registry

    try:
        return registry.load(config)["functions"][function].get(key, default)
    except Exception:  # noqa: BLE001 - only for the message
        return default
