"""Lab 4's in-process runner: SQS deliveries to the lab's handler, each one durable execution.

`workshop.labs.run.run_in_process` is the order saga's; this is the ingest
service's: `ingest.clients` on the in-process AWS fakes (Powertools' real
DynamoDB persistence layer runs against the fake table), the three tables
named, and `DurableFunctionTestRunner` re-invoking the handler after every
suspension (retry back-offs are skipped). Each `deliver(...)` is what one SQS
delivery of one batch makes: a new execution.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python.execution import DurableExecutionInvocationInputWithClient
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES

from workshop.labs.capture import capture_log_lines, per_invocation
from workshop.labs.run import ExecutionRun, _environment
from workshop.testing.fakes import FakeAWS

LEDGER, IDEMPOTENCY, REJECTIONS = "ledger", "idempotency", "rejections"
TABLES = {"LEDGER_TABLE": LEDGER, "IDEMPOTENCY_TABLE": IDEMPOTENCY, "REJECTIONS_TABLE": REJECTIONS}
DEADLINE_S = 30


class _AsLambdaSendsIt(DurableExecutionInvocationInputWithClient):
    """The in-process invocation input, as code *above* @durable_execution sees it over HTTP.

    Lambda invokes a durable function with a JSON envelope (DurableExecutionArn,
    CheckpointToken, InitialExecutionState, ...). In-process the runner passes
    an object holding its client instead, which Powertools cannot copy; this
    one gives Powertools the JSON (``raw_event``) and @durable_execution the
    object, so `@idempotent` above `@durable_execution` behaves as on the stack.
    """

    @property
    def __dataclass_fields__(self):  # type: ignore[override]
        raise AttributeError("__dataclass_fields__")  # Powertools: not a dataclass, use raw_event

    @property
    def raw_event(self) -> dict[str, Any]:
        return dict(self.to_json_dict())

    @classmethod
    def of(cls, event: Any) -> Any:
        if not isinstance(event, DurableExecutionInvocationInputWithClient):
            return event
        names = DurableExecutionInvocationInputWithClient.__dataclass_fields__
        return cls(**{name: getattr(event, name) for name in names})


def as_lambda_invokes(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def invoke(event: Any, context: Any) -> Any:
        return handler(_AsLambdaSendsIt.of(event), context)

    return invoke


@dataclass
class Delivery(ExecutionRun):
    """One execution, plus the batch it was given and the steps it recorded (name -> result or error)."""

    message_ids: list[str] = field(default_factory=list)
    steps: list[tuple[str, Any, str | None]] = field(default_factory=list)  # (name, result, error message)

    @property
    def failures(self) -> list[str]:
        """What SQS delivers again: the reported items, or the whole batch if the execution failed."""
        if self.status != "SUCCEEDED" or not isinstance(self.result, dict):
            return list(self.message_ids)
        return [item["itemIdentifier"] for item in self.result.get("batchItemFailures", [])]

    def error_text(self) -> str:
        if self.error is None:
            return ""
        return f"{(self.error.type or '').rsplit('.', 1)[-1]}: {self.error.message}"

    def posts(self) -> list[str]:
        """Record ids whose post step ran in this execution."""
        return [name.split(":", 1)[1] for name, _, _ in self.steps if name.startswith("post:")]


class IngestQueue:
    """The lab's handler behind an in-process 'queue': deliver batches, read the tables."""

    def __init__(self, handler: Callable[[Any, Any], Any], fake: FakeAWS, runner: Any, sink: Any, seen: list) -> None:
        self.handler, self.fake, self.runner, self.sink = handler, fake, runner, sink
        self._warnings = seen

    def warnings(self) -> list[str]:
        """The warnings the handler raised (Powertools warns when it finds no idempotency key)."""
        return [str(w.message) for w in self._warnings]

    def deliver(self, bodies: list[str], message_ids: list[str], receive_count: int = 1) -> Delivery:
        from workshop.tools.ingest_tools import sqs_event

        event = sqs_event(bodies, receive_count=receive_count, message_ids=message_ids)
        first = len(self.sink.invocations)
        outcome = self.runner.run(input=json.dumps(event), execution_timeout=DEADLINE_S)
        steps = []
        for operation in outcome.operations:
            result = getattr(operation, "result", None)
            error = getattr(operation, "error", None)
            steps.append((operation.name or "", EXTENDED_TYPES_SERDES.deserialize(result) if result else None,
                          error.message if error else None))  # fmt: skip
        return Delivery(
            arn="in-process",
            status=outcome.status.name,
            result=json.loads(outcome.result) if outcome.result else None,
            error=outcome.error,
            invocations=[list(bucket) for bucket in self.sink.invocations[first:]],
            message_ids=list(message_ids),
            steps=steps,
        )

    def writes(self) -> dict[str, int]:
        """record_id -> how many times the ledger was written for it."""
        return {key: int(item["writes"]["N"]) for key, item in self.fake.dynamodb.items(LEDGER).items()}

    def idempotency_puts(self) -> list[dict[str, Any]]:
        """Every item Powertools tried to put in the idempotency table (INPROGRESS records)."""
        return [kwargs["Item"] for op, kwargs in self.fake.dynamodb.calls if op == "put_item" and kwargs["TableName"] == IDEMPOTENCY]


@contextmanager
def ingest_queue(handler: Callable[[Any, Any], Any]) -> Iterator[IngestQueue]:
    """Fresh fakes (empty tables) for one scenario; the handler runs as the ingest function."""
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
    from _shared import clients

    fake = FakeAWS()
    clients.use_factory(fake.client)
    try:
        with _environment(TABLES), capture_log_lines() as sink, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            runner = DurableFunctionTestRunner(handler=per_invocation(as_lambda_invokes(handler), sink), poll_interval=0.05)
            # An invocation that raises (not a failed execution) is retried after 5 s, up to 5 times:
            # skip that wait here, as the runner skips retry back-offs.
            runner._executor.RETRY_BACKOFF_SECONDS = 0
            try:
                yield IngestQueue(handler, fake, runner, sink, seen)
            finally:
                runner.close()
    finally:
        clients.use_factory(None)


def record(run_id: str, n: int, **changes: Any) -> str:
    """A valid message body: record `<run_id>-0000n`."""
    from workshop.tools.ingest_tools import valid_record

    return json.dumps({**valid_record(run_id, n), **changes})


def record_id(body: str) -> str:
    return json.loads(body)["record_id"]
