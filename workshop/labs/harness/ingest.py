"""SQS batches to the ingest function in-process: the harness of labs 4 (idempotency) and 5 (parser).

Both labs hand a lab's ingest handler SQS batches and read the service's
tables back: `ingest_queue` is the function behind an in-process queue (the
fakes behind `ingest.clients`, so Powertools' real DynamoDB persistence layer
runs against the fake table; the three tables named). Each `deliver(...)` is
what one SQS delivery of one batch makes: a new durable execution, re-invoked
after every suspension with retry back-offs skipped. `deliver_with_redrive`
plays SQS around it: what an execution hands back comes again, up to
maxReceiveCount, then goes to the DLQ.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python.execution import DurableExecutionInvocationInputWithClient
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES

from workshop.labs.harness.in_process import InProcess, in_process
from workshop.labs.run import ExecutionRun
from workshop.tools.ingest_tools import sqs_event, valid_record

LEDGER, IDEMPOTENCY, REJECTIONS = "ledger", "idempotency", "rejections"
TABLES = {"LEDGER_TABLE": LEDGER, "IDEMPOTENCY_TABLE": IDEMPOTENCY, "REJECTIONS_TABLE": REJECTIONS}
MAX_RECEIVE_COUNT = 3  # the template's redrive policy
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

    # A Mapping of that JSON too, so a model parse above @durable_execution (Parser's @event_parser)
    # reads the envelope's fields as it does on the stack ("Records  Field required").
    def __getitem__(self, key: str) -> Any:
        return self.raw_event[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw_event)

    def __len__(self) -> int:
        return len(self.raw_event)

    def keys(self) -> Any:
        return self.raw_event.keys()

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw_event.get(key, default)

    @classmethod
    def of(cls, event: Any) -> Any:
        if not isinstance(event, DurableExecutionInvocationInputWithClient):
            return event
        names = DurableExecutionInvocationInputWithClient.__dataclass_fields__
        return cls(**{name: getattr(event, name) for name in names})


Mapping.register(_AsLambdaSendsIt)  # what pydantic accepts as a dict


def as_lambda_invokes(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(handler)  # keeps the handler's module: the harness names the learner's file from it
    def invoke(event: Any, context: Any) -> Any:
        return handler(_AsLambdaSendsIt.of(event), context)

    return invoke


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


@dataclass
class IngestRun(ExecutionRun):
    """One execution of one batch: the batch's message ids, the steps it recorded.

    `error` is the execution's error on one line (describe_error); each step is
    (name, result, error message).
    """

    message_ids: list[str] = field(default_factory=list)
    steps: list[tuple[str, Any, str | None]] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """What SQS delivers again: the reported items, or the whole batch if the execution failed."""
        if self.status != "SUCCEEDED" or not isinstance(self.result, dict):
            return list(self.message_ids)
        return [item["itemIdentifier"] for item in self.result.get("batchItemFailures", [])]

    def batch_item_failures(self) -> list[str] | None:
        """The message ids handed back, or None when the poller gets no valid batch response."""
        if self.status != "SUCCEEDED" or not isinstance(self.result, dict):
            return None
        failures = self.result.get("batchItemFailures")
        if not isinstance(failures, list):
            return None
        return [f.get("itemIdentifier") for f in failures if isinstance(f, dict)]

    def error_text(self) -> str:
        return self.error or ""

    def step_names(self, *prefixes: str) -> list[str]:
        return [name for name, _, _ in self.steps if not prefixes or name.startswith(prefixes)]

    def posts(self) -> list[str]:
        """Record ids whose post step ran in this execution."""
        return [name.split(":", 1)[1] for name in self.step_names("post:")]


class IngestQueue:
    """The lab's handler behind an in-process 'queue': deliver batches, read the tables."""

    def __init__(self, handler: Callable[[Any, Any], Any], run: InProcess) -> None:
        self.handler, self.fake, self.runner, self.sink = handler, run.fake, run.runner, run.lines
        self._run = run
        self._warnings = run.warnings

    def warnings(self) -> list[str]:
        """The warnings the handler raised (Powertools warns when it finds no idempotency key)."""
        return [str(w.message) for w in self._warnings]

    def run(self, event: Any, message_ids: list[str] | None = None) -> IngestRun:
        """One execution of ``event`` (any JSON: an SQS batch or not)."""
        first = len(self.sink.invocations)
        outcome = self._run.run(json.dumps(event), DEADLINE_S)
        steps = []
        for operation in outcome.operations:
            result = getattr(operation, "result", None)
            error = getattr(operation, "error", None)
            steps.append((operation.name or "", EXTENDED_TYPES_SERDES.deserialize(result) if result else None,
                          error.message if error else None))  # fmt: skip
        return IngestRun(
            arn="in-process",
            status=outcome.status.name,
            result=json.loads(outcome.result) if outcome.result else None,
            error=describe_error(outcome.error),
            invocations=[list(bucket) for bucket in self.sink.invocations[first:]],
            message_ids=list(message_ids or []),
            steps=steps,
        )

    def deliver(self, bodies: list[str], message_ids: list[str], receive_count: int = 1) -> IngestRun:
        """One SQS delivery of these bodies (one batch): one execution."""
        return self.run(sqs_event(bodies, receive_count=receive_count, message_ids=message_ids), message_ids)

    # ---------------------------------------------------------------- the tables
    def writes(self) -> dict[str, int]:
        """record_id -> how many times the ledger was written for it."""
        return {key: int(item["writes"]["N"]) for key, item in self.fake.dynamodb.items(LEDGER).items()}

    def ledger(self) -> dict[str, dict[str, Any]]:
        """record_id -> {"writes": n, "amount": "..."}."""
        return {
            key: {"writes": int(item["writes"]["N"]), "amount": item["amount"]["N"]}
            for key, item in self.fake.dynamodb.items(LEDGER).items()
        }

    def rejections(self) -> dict[str, dict[str, Any]]:
        """message_id -> {"reason": ..., "receive_count": n}."""
        return {
            key: {"reason": item["reason"]["S"], "receive_count": int(item["receive_count"]["N"])}
            for key, item in self.fake.dynamodb.items(REJECTIONS).items()
        }

    def idempotency_puts(self) -> list[dict[str, Any]]:
        """Every item Powertools tried to put in the idempotency table (INPROGRESS records)."""
        return [kwargs["Item"] for op, kwargs in self.fake.dynamodb.calls if op == "put_item" and kwargs["TableName"] == IDEMPOTENCY]


@contextmanager
def ingest_queue(handler: Callable[[Any, Any], Any]) -> Iterator[IngestQueue]:
    """Fresh fakes (empty tables) for one scenario; the handler runs as the ingest function."""
    with in_process(as_lambda_invokes(handler), TABLES) as run:
        yield IngestQueue(handler, run)


@dataclass
class Redrive:
    """What SQS did with one batch over all its receives."""

    runs: list[IngestRun]
    dlq: list[str]


def deliver_with_redrive(queue: IngestQueue, messages: list[tuple[str, str]]) -> Redrive:
    """Deliver (message id, body) pairs as SQS with a redrive policy would.

    A message comes back when the execution names it in batchItemFailures, or
    when the execution gives no batch response at all (it failed): then the
    whole batch comes back. After the third receive, what comes back goes to the DLQ.
    """
    pending = list(messages)
    runs: list[IngestRun] = []
    for receive_count in range(1, MAX_RECEIVE_COUNT + 1):
        run = queue.deliver([body for _, body in pending], [mid for mid, _ in pending], receive_count)
        runs.append(run)
        failures = run.batch_item_failures()
        ids = {mid for mid, _ in pending}
        back = ids if failures is None or not set(failures) <= ids else set(failures)  # no valid response: all of it
        pending = [(mid, body) for mid, body in pending if mid in back]
        if not pending:
            break
    return Redrive(runs=runs, dlq=[mid for mid, _ in pending])


def outcome(run: IngestRun) -> str:
    """One line about how an execution ended, for failure messages."""
    steps = run.step_names("enrich:", "post:")
    ran = f" after the steps {', '.join(steps)}" if steps else " before any step"
    if run.status == "SUCCEEDED":
        return f"the execution SUCCEEDED with {run.result}"
    return f"the execution {run.status} ({run.error}){ran}"


def record(run_id: str, n: int, **changes: Any) -> str:
    """A valid message body: record `<run_id>-0000n`."""
    return json.dumps({**valid_record(run_id, n), **changes})


def record_id(body: str) -> str:
    return json.loads(body)["record_id"]
