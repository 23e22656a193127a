"""Lab 5 — Parser. This is the file you edit (a copy of it is kept in starter/).

The ingest service's pieces live in services/ingest: `service.ingest` runs one
record's steps (enrich, then post to the ledger, once per record id),
`service.reject` logs and records why a message was rejected, and
`service.record_metrics` counts the outcomes. This handler reads the SQS batch
the way a quick Lambda function would: it indexes the event's dicts and trusts
every message body to be a ledger record.

Run `make lab-5` to see what one malformed message does to a batch, then follow
workshop/lab-5-parser/README.md stage by stage.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from ingest import Accepted, LedgerRecord, idempotency, logger, metrics
from ingest import handler as service


# TODO (Part 1): a model validates every body before any step.
def to_record(body: dict[str, Any]) -> LedgerRecord:
    """The fields the ledger needs, taken from the body as they come."""
    # model_construct builds the model without validating anything: the producer is trusted.
    return LedgerRecord.model_construct(
        record_id=body["record_id"],
        account_id=body["account_id"],
        amount=Decimal(str(body["amount"])),
        currency=body["currency"],
        occurred_at=datetime.fromisoformat(body["occurred_at"]),
    )


@metrics.log_metrics
@logger.inject_lambda_context
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)
    # Every invocation: an in-progress idempotency record expires with *this* invocation.
    idempotency.config.register_lambda_context(context.lambda_context)

    outcomes: list[str] = []
    # TODO (Part 2): Powertools Parser parses the SQS envelope.
    for message in event["Records"]:
        body = json.loads(message["body"])
        record = to_record(body)
        receive_count = int(message["attributes"]["ApproximateReceiveCount"])
        # The steps "enrich:<record_id>" and "post:<record_id>".
        outcomes.append(service.ingest(context, Accepted(message["messageId"], record, receive_count)))

    # Past this point nothing suspends: this runs in exactly one invocation per execution.
    service.record_metrics(outcomes)
    context.logger.info("Batch ingested", extra={"messages": len(outcomes)})
    # TODO (Part 3): hand back only the malformed messages.
    return {"batchItemFailures": []}
