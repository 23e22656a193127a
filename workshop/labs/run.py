"""One execution of a lab's handler and what it printed, per invocation.

Two ways to get one, with the same shape, so a stage check can be written once:
- `run_in_process`: DurableFunctionTestRunner + the in-process AWS fakes, in
  about a second (waits and retry back-offs are skipped);
- `run_live`: a real durable execution on the local stack, through the
  function host, with the log lines read back from CloudWatch Logs.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
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


# ------------------------------------------------------------------ in-process
SAGA_ENV = {
    "INVENTORY_TABLE": "inventory",
    "PAYMENTS_TABLE": "payments",
    "PAYMENT_FUNCTION": "payment",
    "WAREHOUSE_FUNCTION": "warehouse",
    "WAREHOUSE_TIMEOUT_PARAM": "/workshop/order-saga/warehouse-timeout-seconds",
}


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_in_process(
    handler: Callable[[Any, Any], Any],
    payload: dict[str, Any],
    env: dict[str, str | None] | None = None,
    timeout_s: float = 30.0,
    until_callback: str | None = None,
) -> ExecutionRun:
    """Run the order saga's flow with `handler` as the durable function, fakes for AWS.

    With `until_callback`, stop once the execution waits on that callback
    (the run is then RUNNING): what a still-waiting execution has emitted.
    """
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
    from _shared import clients
    from order_saga import payment, warehouse
    from order_saga.seed import seed_inventory

    from workshop.labs.capture import capture_log_lines, per_invocation
    from workshop.testing.fakes import FakeAWS

    fake = FakeAWS()
    clients.use_factory(fake.client)
    try:
        with _environment({**SAGA_ENV, **(env or {})}):
            seed_inventory(SAGA_ENV["INVENTORY_TABLE"], fake.dynamodb)
            fake.ssm.parameters[SAGA_ENV["WAREHOUSE_TIMEOUT_PARAM"]] = "30"
            fake.lambda_.register(SAGA_ENV["WAREHOUSE_FUNCTION"], warehouse.lambda_handler)
            with capture_log_lines() as sink:
                runner = DurableFunctionTestRunner(handler=per_invocation(handler, sink), poll_interval=0.05)
                runner.register_function(SAGA_ENV["PAYMENT_FUNCTION"], payment.lambda_handler)
                fake.lambda_.runner = runner
                try:
                    arn = runner.run_async(input=json.dumps(payload), execution_timeout=int(timeout_s))
                    if until_callback:
                        runner.wait_for_callback(arn, name=until_callback, timeout=timeout_s)
                        _wait_until_suspended(runner, arn, timeout_s)
                        status, result, error = "RUNNING", None, None
                    else:
                        outcome = runner.wait_for_result(arn, timeout=timeout_s)
                        status = outcome.status.name
                        result = json.loads(outcome.result) if outcome.result else None
                        error = outcome.error
                    lines = [list(bucket) for bucket in sink.invocations]
                finally:
                    fake.lambda_.join()
                    runner.close()
    finally:
        clients.use_factory(None)
    return ExecutionRun(arn=arn, status=status, result=result, error=error, invocations=lines)


def _wait_until_suspended(runner: Any, arn: str, timeout_s: float) -> None:
    """After the callback exists, the invocation still has to finish suspending (and flush).

    Suspended = the last history event is an InvocationCompleted that came
    after the callback started.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        types = [event.event_type for event in runner.get_execution_history(arn).events]
        if "CallbackStarted" in types and types[-1] == "InvocationCompleted" and types.index("CallbackStarted") < len(types) - 1:
            return
        time.sleep(0.02)
    raise AssertionError(f"execution {arn} did not suspend on its callback within {timeout_s:.0f} s")


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
