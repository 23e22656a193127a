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

from workshop.inspect import TERMINAL

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


def start_live(config: Any, function: str, payload: dict[str, Any]) -> str:
    """Start a real execution of `function` on the stack (an Event invoke): its ARN, at once."""
    from workshop.config import boto3_client

    if "order_id" in payload:
        # The stack's tables outlive a run: a fresh order id keeps this run's
        # simulated failures (counted per order) from being used up by the last.
        payload = {**payload, "order_id": f"{payload['order_id']}-{uuid.uuid4().hex[:8]}"}
    response = boto3_client("lambda", config).invoke(FunctionName=f"{function}:$LATEST", InvocationType="Event", Payload=json.dumps(payload).encode())
    return response["DurableExecutionArn"]


def read_live(config: Any, function: str, arn: str, deadline_s: float = 120.0) -> ExecutionRun:
    """An execution already started on the stack: wait for its end, read back each invocation's lines."""
    from workshop.inspect import Services, invocation_logs
    from workshop.config import boto3_client

    lam = boto3_client("lambda", config)
    deadline = time.monotonic() + deadline_s
    while True:
        detail = lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
        if detail["Status"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {arn} still {detail['Status']} after {deadline_s:.0f} s")
        time.sleep(0.1)
    services = Services(config=config)
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
