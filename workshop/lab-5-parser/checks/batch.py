"""Lab 5's in-process runner: one SQS batch as one durable execution of the ingest handler.

`workshop.labs.run.run_in_process` is the order saga's; this is the ingest
service's: DurableFunctionTestRunner, the in-process AWS fakes behind
``ingest.clients``, the service's three tables, and the log lines of each
invocation (workshop.labs.capture). `deliver` plays SQS around it: what the
execution hands back (its batch item failures, or the whole batch when the
execution fails) is delivered again, up to maxReceiveCount, then goes to the DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workshop.tools.ingest_tools import sqs_event, valid_record
from workshop.labs.run import ExecutionRun, _environment

LEDGER, IDEMPOTENCY, REJECTIONS = "ledger", "idempotency", "rejections"
TABLES = {"LEDGER_TABLE": LEDGER, "IDEMPOTENCY_TABLE": IDEMPOTENCY, "REJECTIONS_TABLE": REJECTIONS}
MAX_RECEIVE_COUNT = 3  # the template's redrive policy
TIMEOUT_S = 30


@dataclass
class BatchRun(ExecutionRun):
    """An execution of one batch, plus the operations it recorded (name, status, error)."""

    operations: list[tuple[str, str, str]] = field(default_factory=list)

    def step_names(self, *prefixes: str) -> list[str]:
        return [name for name, _, _ in self.operations if not prefixes or name.startswith(prefixes)]

    def batch_item_failures(self) -> list[str] | None:
        """The message ids handed back, or None when the poller gets no valid batch response."""
        if self.status != "SUCCEEDED" or not isinstance(self.result, dict):
            return None
        failures = self.result.get("batchItemFailures")
        if not isinstance(failures, list):
            return None
        return [f.get("itemIdentifier") for f in failures if isinstance(f, dict)]


def record(n: int, **changes: Any) -> str:
    """A valid message body, record id ``t-0000n``."""
    return json.dumps({**valid_record("t", n), **changes})


def describe_error(error: Any) -> str:
    """``Type: message`` on one line, from the test runner's ErrorObject or the live API's dict."""
    if not error:
        return ""
    if isinstance(error, dict):
        kind, message = error.get("ErrorType") or "", error.get("ErrorMessage") or ""
    else:
        kind, message = getattr(error, "type", None) or "", getattr(error, "message", None) or ""
    message = " ".join(line.strip() for line in message.splitlines() if line.strip())
    message = message.split(" For further information visit")[0]  # pydantic's link
    return f"{kind.rsplit('.', 1)[-1]}: {message}".strip(": ")


class Ingest:
    """The ingest handler on in-process fakes; several executions share the same tables."""

    def __init__(self, handler: Callable[[Any, Any], Any]) -> None:
        self.handler = handler

    def __enter__(self) -> Ingest:
        from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
        from _shared import clients

        from workshop.testing.fakes import FakeAWS

        self.aws = FakeAWS()
        self._env = _environment(TABLES)
        self._env.__enter__()
        clients.use_factory(self.aws.client)
        self._sink: Any = None
        self._runner = DurableFunctionTestRunner(handler=self._per_invocation, poll_interval=0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        from _shared import clients

        self._runner.close()
        clients.use_factory(None)
        self._env.__exit__(*exc)

    def _per_invocation(self, event: Any, context: Any) -> Any:
        if self._sink is not None:
            self._sink.next_invocation()
        return self.handler(event, context)

    def run(self, event: Any) -> BatchRun:
        """One execution of ``event`` (any JSON: an SQS batch or not)."""
        from workshop.labs.capture import capture_log_lines

        with capture_log_lines() as sink:
            self._sink = sink
            try:
                outcome = self._runner.run(input=json.dumps(event), execution_timeout=TIMEOUT_S)
            finally:
                self._sink = None
        operations = [
            (op.name or "", op.status.name if op.status else "", describe_error(getattr(op, "error", None)))
            for op in outcome.operations
        ]
        return BatchRun(
            arn="in-process",
            status=outcome.status.name,
            result=json.loads(outcome.result) if outcome.result else None,
            error=describe_error(outcome.error),
            invocations=[list(lines) for lines in sink.invocations],
            operations=operations,
        )

    def run_batch(self, bodies: list[str], ids: list[str], receive_count: int = 1) -> BatchRun:
        return self.run(sqs_event(bodies, receive_count=receive_count, message_ids=ids))

    # ---------------------------------------------------------------- the tables
    def ledger(self) -> dict[str, dict[str, Any]]:
        """record_id -> {"writes": n, "amount": "..."}."""
        return {
            key: {"writes": int(item["writes"]["N"]), "amount": item["amount"]["N"]}
            for key, item in self.aws.dynamodb.items(LEDGER).items()
        }

    def rejections(self) -> dict[str, dict[str, Any]]:
        """message_id -> {"reason": ..., "receive_count": n}."""
        return {
            key: {"reason": item["reason"]["S"], "receive_count": int(item["receive_count"]["N"])}
            for key, item in self.aws.dynamodb.items(REJECTIONS).items()
        }


@dataclass
class Delivery:
    """What SQS did with one batch over all its receives."""

    runs: list[BatchRun]
    dlq: list[str]


def deliver(ingest: Ingest, messages: list[tuple[str, str]]) -> Delivery:
    """Deliver (message id, body) pairs as SQS with a redrive policy would.

    A message comes back when the execution names it in batchItemFailures, or
    when the execution gives no batch response at all (it failed): then the
    whole batch comes back. After the third receive, what comes back goes to the DLQ.
    """
    pending = list(messages)
    runs: list[BatchRun] = []
    for receive_count in range(1, MAX_RECEIVE_COUNT + 1):
        run = ingest.run_batch([body for _, body in pending], [mid for mid, _ in pending], receive_count)
        runs.append(run)
        failures = run.batch_item_failures()
        ids = {mid for mid, _ in pending}
        if failures is None or not set(failures) <= ids:
            back = ids  # no valid batch response: the whole batch comes back
        else:
            back = set(failures)
        pending = [(mid, body) for mid, body in pending if mid in back]
        if not pending:
            break
    return Delivery(runs=runs, dlq=[mid for mid, _ in pending])


def outcome(run: BatchRun) -> str:
    """One line about how an execution ended, for failure messages."""
    steps = run.step_names("enrich:", "post:")
    ran = f" after the steps {', '.join(steps)}" if steps else " before any step"
    if run.status == "SUCCEEDED":
        return f"the execution SUCCEEDED with {run.result}"
    return f"the execution {run.status} ({run.error}){ran}"
