"""Lab 4 — Idempotency. This is the file you edit (a copy of it is kept in starter/).

The SQS ingest function (services/ingest): every SQS batch is one durable
execution; each valid record is enriched (step "enrich:<record_id>") and
posted to the ledger (step "post:<record_id>"); `ingest(...)` from the service
runs those two steps and calls `post_entry(entry=...)` inside the post step.

This handler protects itself the way the Powertools page's durable-functions
example does ("Use Idempotency for ESM triggers"): `@idempotent` on the
handler, above `@durable_execution`. Run `make lab-4`: the same batch is
delivered twice and every record is posted twice (the ledger item's `writes`
becomes 2). And a bad record fails the whole batch.

Then follow workshop/lab-4-idempotency/README.md part by part.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools.utilities.idempotency import idempotent
from ingest import COMES_BACK, Rejected, idempotency, ingest, ledger, logger, metrics, parse_batch, record_metrics

# The page's example: a DynamoDB persistence layer on the idempotency table.
page_store = idempotency.LedgerIdempotencyStore()


class RecordRejected(Exception):
    """A message whose body is not a valid record."""


# TODO (Part 1): a record delivered twice writes once.
def post_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """Runs inside the "post:<record_id>" step: one ledger write (it adds 1 to `writes`)."""
    return ledger.post(entry)


# TODO (Part 2): where idempotency goes in a durable function.
@metrics.log_metrics
@logger.inject_lambda_context
@idempotent(persistence_store=page_store)  # the Powertools page's order: above @durable_execution
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)

    batch = parse_batch(event)

    outcomes: list[str] = []
    for message in batch.messages:
        if isinstance(message, Rejected):
            # TODO (Part 3): partial batch failures: hand back only this message, not the batch.
            # Fail the batch: SQS will deliver it again.
            raise RecordRejected(f"message {message.message_id}: {message.reason}")
        outcomes.append(ingest(context, message, post_function=post_entry))

    record_metrics(outcomes)
    return {
        "batchItemFailures": [
            {"itemIdentifier": message.message_id}
            for message, outcome in zip(batch.messages, outcomes, strict=True)
            if outcome in COMES_BACK
        ]
    }
