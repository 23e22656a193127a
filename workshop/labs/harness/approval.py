"""The approval wait in-process: the harness of lab 6 (parameters) and of any lab built on approval-wait.

A durable function that waits for days on a person cannot be checked by
running it to the end: the harness drives it. Start an expense, wait until it
waits on its callback, change a parameter or simulate a new execution
environment while it waits, answer the callback (approve, reject) or let a
1-second timeout fire, and keep what every call to SSM and Secrets Manager
read, every log/EMF line, the history and the step results.

Callback timeouts are real-time timers in the test runner, so the timeout
scenarios use 1-second durations read from the fake SSM, as the function reads them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from workshop.labs.harness.in_process import InProcess, in_process, wait_until_suspended

TABLE = "approvals"
SECRET_ID = "workshop/approval/notification-token"
DEADLINE = 20


@dataclass
class Finished:
    """One execution that ended: its outcome and everything it left behind."""

    arn: str
    status: str
    result: dict[str, Any] | None
    error: Any
    operations: list[str | None]
    step_results: str  # every operation as the runner reports it, results included
    history: str  # GetDurableExecutionHistory with execution data, as JSON text
    history_events: list[dict[str, Any]] = field(default_factory=list)

    def invocations(self) -> int:
        return sum(1 for event in self.history_events if event.get("EventType") == "InvocationCompleted")


class _FreshClient:
    """The same fake service behind a new client object: Powertools sees a new client, with an empty cache."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class ApprovalWait:
    """A warm execution environment running the lab's handler as approval-wait, with fakes for AWS."""

    def __init__(self, run: InProcess, token: str, threshold_param: str, timeouts_param: str) -> None:
        self.fake, self.runner, self.lines = run.fake, run.runner, run.lines
        self._run = run
        self.token = token
        self.threshold_param, self.timeouts_param = threshold_param, timeouts_param

    # -- the policy, as an administrator changes it
    def set_threshold(self, value: str) -> None:
        self.fake.ssm.parameters[self.threshold_param] = value

    def set_waits(self, approval: int, escalation: int, heartbeat: int = 0) -> None:
        self.fake.ssm.parameters[self.timeouts_param] = json.dumps(
            {"approval_seconds": approval, "heartbeat_seconds": heartbeat, "escalation_seconds": escalation}
        )

    def new_environment(self) -> None:
        """What AWS does to a replay days later: run it in a new execution environment (empty caches)."""
        from _shared import clients

        clients.use_factory(lambda name: _FreshClient(self.fake.client(name)))

    # -- one execution
    def start(self, payload: dict[str, Any]) -> str:
        return self.runner.run_async(input=json.dumps(payload), execution_timeout=DEADLINE)

    def wait_for_callback(self, arn: str, name: str = "approval") -> str:
        """The callback's id, once the invocation that created it has suspended."""
        callback_id = self._run.wait_for_callback(arn, name, DEADLINE)
        wait_until_suspended(self.runner, arn, DEADLINE)
        return callback_id

    def approve(self, callback_id: str, approver: str = "bo") -> None:
        self.fake.lambda_.send_durable_execution_callback_success(
            CallbackId=callback_id, Result=json.dumps({"approver": approver, "comment": "ok"}).encode()
        )

    def reject(self, callback_id: str, reason: str) -> None:
        self.fake.lambda_.send_durable_execution_callback_failure(
            CallbackId=callback_id, Error={"ErrorType": "ExpenseRejected", "ErrorMessage": reason}
        )

    def finish(self, arn: str) -> Finished:
        outcome = self._run.wait_for_result(arn, DEADLINE)
        history = self.runner.get_execution_history(arn, include_execution_data=True)
        events = [event.to_dict() if hasattr(event, "to_dict") else {"repr": repr(event)} for event in history.events]
        operations = list(outcome.operations)
        return Finished(
            arn=arn,
            status=outcome.status.name,
            result=json.loads(outcome.result) if outcome.result else None,
            error=outcome.error,
            operations=[op.name for op in operations],
            step_results=repr(operations) + repr([getattr(op, "result", None) for op in operations]),
            history=json.dumps(events, default=str),
            history_events=events,
        )

    # -- what it left behind
    def table_item(self, request_id: str) -> dict[str, Any] | None:
        item = self.fake.dynamodb.items(TABLE).get(request_id) if TABLE in self.fake.dynamodb.tables else None
        return {k: next(iter(v.values())) for k, v in item.items()} if item else None

    def all_lines(self) -> list[str]:
        """Every log and EMF line, all invocations."""
        return [line for bucket in self.lines.invocations for line in bucket]


@contextmanager
def approval_wait(handler: Callable[[Any, Any], Any], threshold_param: str, timeouts_param: str, threshold: str) -> Iterator[ApprovalWait]:
    """Fakes wired into approval_wait.clients, these parameters (hour-long waits) and a fresh token, log capture on."""
    from approval_wait.observability import metrics

    env = {
        "APPROVALS_TABLE": TABLE,
        "APPROVAL_THRESHOLD_PARAM": threshold_param,
        "APPROVAL_TIMEOUTS_PARAM": timeouts_param,
        "APPROVER_SECRET": SECRET_ID,
    }
    metrics.clear_metrics()
    token = "tok-" + secrets.token_hex(16)
    with in_process(handler, env) as run:
        run.fake.secretsmanager.secrets[SECRET_ID] = token
        harness = ApprovalWait(run, token, threshold_param, timeouts_param)
        harness.set_threshold(threshold)
        harness.set_waits(approval=3600, escalation=3600)
        yield harness


def expense(request_id: str, amount: str = "800.00") -> dict[str, Any]:
    return {"request_id": request_id, "employee": "ana", "amount": amount, "currency": "EUR", "description": "team offsite"}
