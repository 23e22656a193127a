"""Lab 4 — Idempotency, solution: what services/ingest/handler.py does.

- Part 1: the ledger write is wrapped in Powertools Idempotency
  (`@idempotent_function`, the DynamoDB persistence layer from
  `ingest.idempotency`, keyed on the business id `record_id`). A second
  delivery of a record, in any batch and any execution, returns the first
  post's stored result instead of writing again.
- Part 2: it sits INSIDE the "post:<record_id>" step, around the one write.
  The page's `@idempotent` above `@durable_execution` is gone: it hashed the
  durable invocation envelope (DurableExecutionArn, CheckpointToken, ...), new
  on every delivery, so it deduplicated nothing. Around the steps, a replay
  finds its own INPROGRESS record and fails. Every invocation registers its
  Lambda context, so an INPROGRESS record left by a crashed invocation expires
  with that invocation, not after the idempotency window (7 days).
- Part 3: Powertools' Batch utility: a message that raises (a bad record, a
  record not posted, an error nobody expected) is reported alone in
  `batchItemFailures`; the execution succeeds, SQS deletes the good messages
  and delivers only the failed ones again.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from ingest import COMES_BACK, REJECTED, ingest, record_metrics, reject  # the service's durable function
from ingest import Rejected, idempotency, ledger, logger, metrics, parse_batch


class NotPosted(Exception):
    """A message that goes back to the queue: the Batch utility reports it in batchItemFailures."""


@idempotent_function(
    data_keyword_argument="entry",
    persistence_store=idempotency.store,  # Powertools' DynamoDBPersistenceLayer
    config=idempotency.config,  # event_key_jmespath="record_id", payload validation, 7 days
)
def post_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """Runs inside the "post:<record_id>" step: one ledger write per record_id, ever."""
    return ledger.post(entry)


@metrics.log_metrics
@logger.inject_lambda_context
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> PartialItemFailureResponse:
    context.set_logger(logger)
    # Every invocation: an INPROGRESS record expires with *this* invocation.
    idempotency.config.register_lambda_context(context.lambda_context)

    batch = parse_batch(event)
    messages = {message.message_id: message for message in batch.messages}
    outcomes: list[str] = []

    def record_handler(record: SQSRecord) -> str:
        message = messages[record.message_id]
        if isinstance(message, Rejected):
            reject(context, message)  # log line + rejections table: why it comes back
            outcome = REJECTED
        else:
            outcome = ingest(context, message, post_function=post_entry)
        outcomes.append(outcome)
        if outcome in COMES_BACK:
            raise NotPosted(f"message {record.message_id}: {outcome}")
        return outcome

    # One per invocation; a batch that failed as a whole is still reported message by message.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor)

    record_metrics(outcomes)  # after the last suspension: once per execution
    return response
