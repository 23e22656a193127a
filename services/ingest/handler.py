"""The SQS ingest function: a durable function triggered by an event source mapping.

Handler ``ingest.handler.lambda_handler``. One SQS batch (up to 10 messages)
is one durable execution; Lambda's poller invokes synchronously and waits, so
an execution must end within 15 minutes (``DurableConfig.ExecutionTimeout``
is 300 s), and every delivery, redeliveries included, starts a new execution.

Flow, per message in batch order (operation names are built from the input
only, so they are the same on every replay)::

    parse the batch (Parser: SqsModel), validate each body (LedgerRecord)  -- no durable operation
    invalid body:
        log "Record rejected" (messageId, reason)                          -- once per execution
        "reject:<messageId>"  step: put the reason in the rejections table
        -> batchItemFailures: back to the queue, to the DLQ after maxReceiveCount
    valid record:
        "enrich:<record_id>"  step: EUR amount, band, ingested_at (checkpointed: stable on replay)
        "post:<record_id>"    step: ledger write under Powertools Idempotency (key: record_id)
            first time         -> posted, writes = 1
            a duplicate        -> the stored result, "duplicate": true, no write
            being posted now   -> retried (IdempotencyAlreadyInProgressError), then a duplicate
            conflicting fields -> batchItemFailures (IdempotencyValidationError), ends in the DLQ
            failing for good   -> batchItemFailures: redelivered later, then a duplicate or a post
    return {"batchItemFailures": [...]}  (ReportBatchItemFailures: only those come back)

The loop is Powertools' Batch utility (``BatchProcessor``,
``process_partial_response``): a message that raises, for any reason, is
reported in ``batchItemFailures`` and its neighbours go on. It composes with
durable steps (measured, in-process and on the stack): the SDK suspends an
invocation by raising ``SuspendExecution``, a ``BaseException`` the processor
does not catch, so a step's retry back-off still suspends the whole
execution, and a replay runs the records again in the same order, their
completed steps returning from the checkpoint log. It runs *below*
``@durable_execution``: above it, it would see the durable invocation
envelope (no ``Records``) and raise.

A lab replaces only this module: everything it needs (models, enrichment,
ledger, idempotency store and config, rejections, retries) is imported.

Powertools placement, and why:

- Idempotency is per record, on the function that writes (``post_entry``),
  inside the ``post`` step. ``@idempotent`` on the handler cannot be keyed on
  a batch, and above ``@durable_execution`` it sees only the durable
  invocation envelope (nothing deduplicated). See the README.
- The Lambda context is registered with the idempotency config on every
  invocation, so an in-progress record left by a crash expires with that
  invocation, not after the idempotency window.
- Logger: ``context.logger`` only (once per execution); Metrics: after the
  last suspension.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import StepConfig
from aws_durable_execution_sdk_python.exceptions import DurableOperationError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import idempotent_function

from ingest import enrichment, idempotency, ledger, rejections
from ingest.models import Accepted, Batch, Rejected, parse_batch
from ingest.observability import logger, metrics
from ingest.retries import post_retry

# Outcomes of one message.
POSTED, DUPLICATE, REJECTED, CONFLICT, FAILED = "POSTED", "DUPLICATE", "REJECTED", "CONFLICT", "FAILED"
# Only these go back to the queue (as batch item failures).
COMES_BACK = {REJECTED, CONFLICT, FAILED}
_OUTCOME_METRIC = {
    POSTED: "RecordsPosted",
    DUPLICATE: "RecordsDuplicate",
    REJECTED: "RecordsRejected",
    CONFLICT: "RecordsConflicting",
    FAILED: "RecordsRedelivered",
}
# The type Powertools raises for a record id posted before with other business fields.
CONFLICT_ERROR = "IdempotencyValidationError"


class NotPosted(Exception):
    """A message that goes back to the queue: the Batch utility reports it in batchItemFailures."""


@idempotent_function(
    data_keyword_argument="entry",
    persistence_store=idempotency.store,
    config=idempotency.config,
)
def post_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """Post one entry to the ledger, once per record id (Powertools Idempotency, and a conditional write)."""
    return ledger.post_once(entry)


def reject(context: DurableContext, message: Rejected) -> None:
    """Log and record why a message is rejected; the handler reports it as a failure."""
    context.logger.warning(
        "Record rejected",
        extra={
            "messageId": message.message_id,
            "record_id": message.record_id,
            "reason": message.reason,
            "receiveCount": message.receive_count,
        },
    )
    try:
        context.step(lambda _: rejections.record(message), name=f"reject:{message.message_id}")
    except DurableOperationError as error:
        # The reason is in the log line above; the message is reported as failed either way.
        context.logger.error(
            "Rejection not recorded", extra={"messageId": message.message_id, "error": error.message}
        )


def ingest(
    context: DurableContext, message: Accepted, post_function: Callable[..., dict[str, Any]] | None = None
) -> str:
    """Enrich and post one record. Returns POSTED, DUPLICATE, CONFLICT or FAILED.

    ``post_function`` is what runs inside the ``post:<record_id>`` step, called as
    ``post_function(entry=...)``: by default ``post_entry`` (the ledger write under
    Powertools Idempotency); lab 4 passes its own to show where idempotency belongs.
    """
    record_id = message.record.record_id
    write = post_function or post_entry

    def enrich(_: StepContext) -> dict[str, Any]:
        return enrichment.enrich(message.record, message.message_id)

    entry = context.step(enrich, name=f"enrich:{record_id}")

    def post(_: StepContext) -> dict[str, Any]:
        return write(entry=entry)

    try:
        posted = context.step(post, name=f"post:{record_id}", config=StepConfig(retry_strategy=post_retry))
    except DurableOperationError as error:
        if (error.error_type or "").rsplit(".", 1)[-1] != CONFLICT_ERROR:
            # Retries ran out (another execution held the record, or DynamoDB kept failing):
            # the message comes back later and is then posted, or found to be a duplicate.
            context.logger.warning(
                "Record not posted, it will be delivered again",
                extra={"messageId": message.message_id, "record_id": record_id, "reason": error.message},
            )
            return FAILED
        # The record id was posted with other business fields: not a duplicate, a conflict.
        reject(context, Rejected(message.message_id, f"conflict: {error.message}", message.receive_count, record_id))
        return CONFLICT
    return DUPLICATE if posted.get("duplicate") else POSTED


def record_metrics(outcomes: list[str]) -> None:
    """Add one count per outcome. Call only after the last suspension: it must run once."""
    for outcome, metric in _OUTCOME_METRIC.items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=outcomes.count(outcome))


def handle(context: DurableContext, message: Accepted | Rejected) -> str:
    """One message of the batch: rejected (reason recorded) or ingested; its outcome."""
    if isinstance(message, Rejected):
        reject(context, message)
        return REJECTED
    return ingest(context, message)


def ingest_batch(
    context: DurableContext, batch: Batch, event: dict[str, Any], handle_message: Callable[[Accepted | Rejected], str]
) -> tuple[list[str], PartialItemFailureResponse]:
    """Each message through ``handle_message`` under the Batch utility; the outcomes and the batch response.

    A message whose outcome is in ``COMES_BACK``, or whose handling raised, is
    reported in ``batchItemFailures``. ``raise_on_entire_batch_failure=False``: a
    batch that failed as a whole is still an execution that SUCCEEDED, with every
    message reported and every reason on record, rather than one FAILED execution.
    """
    by_id = {message.message_id: message for message in batch.messages}
    outcomes: list[str] = []

    def record_handler(record: SQSRecord) -> str:
        outcome = handle_message(by_id[record.message_id])
        outcomes.append(outcome)
        if outcome in COMES_BACK:
            raise NotPosted(f"message {record.message_id}: {outcome}")
        return outcome

    # One processor per invocation: it holds the batch's results, and a module-level one
    # would be shared by invocations that overlap in one process.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor)
    return outcomes, response


@metrics.log_metrics
@logger.inject_lambda_context
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> PartialItemFailureResponse:
    context.set_logger(logger)
    # Every invocation: an in-progress idempotency record expires with *this* invocation.
    idempotency.config.register_lambda_context(context.lambda_context)

    batch = parse_batch(event)  # not an SQS batch: raises, the execution fails, the batch comes back

    outcomes, response = ingest_batch(context, batch, event, lambda message: handle(context, message))

    # Past this point nothing suspends: this runs in exactly one invocation per execution.
    record_metrics(outcomes)
    summary = {outcome.lower(): outcomes.count(outcome) for outcome in _OUTCOME_METRIC}
    context.logger.info("Batch ingested", extra={"messages": len(batch.messages), **summary})
    return response
