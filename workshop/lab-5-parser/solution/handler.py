"""Lab 5 — Parser, solution: the practice of the Powertools durable-functions page.

- Stage 1: every message body is validated with a model (``LedgerRecord``)
  before any step runs. Parsing is deterministic and makes no durable
  operation, so it is safe to run again on every replay, and a bad body can
  no longer fail the execution half-way through the batch.
- Stage 2: the whole event is parsed with Powertools Parser's ``SqsModel``
  first. An event that is not an SQS batch fails right there, with a
  validation error that names the field, before anything is written.
- Stage 3: one bad body must not sink its neighbours, so the bodies are
  validated one by one (not with ``SqsEnvelope``, which raises for the whole
  batch on the first bad body). A rejected message is logged and its reason
  recorded by message id (``service.reject``), then reported in
  ``batchItemFailures``: only it comes back, and SQS moves it to the DLQ
  after ``maxReceiveCount``. The good records are posted once.

services/ingest/models.py (``parse_batch``) does the same for the service.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel, SqsRecordModel
from pydantic import ValidationError

from ingest import Accepted, LedgerRecord, Rejected, describe, idempotency, logger, metrics
from ingest import handler as service


def validate(message: SqsRecordModel) -> Accepted | Rejected:
    """One message: its body validated as a ledger record, or the reason it is not one."""
    receive_count = int(message.attributes.ApproximateReceiveCount)
    try:
        record = LedgerRecord.model_validate_json(message.body)
    except ValidationError as error:
        return Rejected(message.messageId, describe(error), receive_count)
    return Accepted(message.messageId, record, receive_count)


@metrics.log_metrics
@logger.inject_lambda_context
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)
    # Every invocation: an in-progress idempotency record expires with *this* invocation.
    idempotency.config.register_lambda_context(context.lambda_context)

    # Before any step: the envelope (not an SQS batch -> ValidationError, the execution fails,
    # nothing written), then every body on its own.
    batch = parse(event=event, model=SqsModel)
    messages = [validate(message) for message in batch.Records]

    outcomes: list[str] = []
    for message in messages:
        if isinstance(message, Rejected):
            service.reject(context, message)  # log line + rejections table, by message id
            outcomes.append(service.REJECTED)
        else:
            # The steps "enrich:<record_id>" and "post:<record_id>".
            outcomes.append(service.ingest(context, message))

    # Past this point nothing suspends: this runs in exactly one invocation per execution.
    service.record_metrics(outcomes)
    context.logger.info("Batch ingested", extra={"messages": len(outcomes), "rejected": outcomes.count(service.REJECTED)})
    return {
        "batchItemFailures": [
            {"itemIdentifier": message.message_id}
            for message, outcome in zip(messages, outcomes, strict=True)
            if outcome in service.COMES_BACK
        ]
    }
