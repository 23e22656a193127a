"""Lab 4 — Idempotency, solution: what services/ingest/handler.py does.

- Stage 1: the ledger write is wrapped in Powertools Idempotency
  (`@idempotent_function`, the DynamoDB persistence layer from
  `ingest.idempotency`, keyed on the business id `record_id`). A second
  delivery of a record, in any batch and any execution, returns the first
  post's stored result instead of writing again.
- Stage 2: it sits INSIDE the "post:<record_id>" step, around the one write,
  not on the handler: above `@durable_execution` (the Powertools page's order)
  Powertools sees the durable invocation envelope, not the batch, and nothing
  is deduplicated; around the steps, a replay finds its own INPROGRESS record
  and fails. Every invocation registers its Lambda context, so an INPROGRESS
  record left by a crashed invocation expires with that invocation, not after
  the idempotency window (7 days).
- Stage 3: a bad record is recorded and reported in `batchItemFailures`; the
  execution succeeds, so SQS deletes the good messages and delivers only the
  bad one again.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from ingest import COMES_BACK, REJECTED, ingest, record_metrics, reject  # the service's durable function
from ingest import Rejected, idempotency, ledger, logger, metrics, parse_batch


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
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)
    # Every invocation: an INPROGRESS record expires with *this* invocation.
    idempotency.config.register_lambda_context(context.lambda_context)

    batch = parse_batch(event)

    outcomes: list[str] = []
    for message in batch.messages:
        if isinstance(message, Rejected):
            # Record why, report it: only this message comes back.
            reject(context, message)
            outcomes.append(REJECTED)
        else:
            outcomes.append(ingest(context, message, post_function=post_entry))

    record_metrics(outcomes)
    return {
        "batchItemFailures": [
            {"itemIdentifier": message.message_id}
            for message, outcome in zip(batch.messages, outcomes, strict=True)
            if outcome in COMES_BACK
        ]
    }
