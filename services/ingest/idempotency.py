"""Powertools Idempotency for the ledger: the DynamoDB persistence layer and its configuration.

The handler applies them per record, around the ledger write::

    @idempotent_function(data_keyword_argument="entry",
                         persistence_store=idempotency.store, config=idempotency.config)
    def post_entry(entry): ...

Why per record and not ``@idempotent`` on the handler: an SQS batch carries
up to ten business ids, and every delivery (a redelivery, or the same record
sent twice) arrives in a *new* batch and starts a *new* durable execution.
Only the record id identifies a duplicate. See the service README for the
decorator-order facts that rule out the handler level.

Configuration, and why:

- ``event_key_jmespath="record_id"``: the business id is the key, not the
  SQS message id (a producer sending a record twice makes two messages).
- ``payload_validation_jmespath``: the business fields. The same record id
  with a different account, amount, currency or time is not a duplicate but a
  conflict: Powertools raises ``IdempotencyValidationError`` and the message
  ends in the DLQ instead of being silently dropped.
- ``expires_after_seconds`` (``IDEMPOTENCY_EXPIRES_AFTER_SECONDS``, seven
  days): longer than any message can wait on the queue (four days).
- ``response_hook``: a duplicate returns the first post's stored result,
  marked ``"duplicate": True`` so the execution history and the metrics can
  tell the two apart.
- The in-progress window is the *current invocation's* remaining time (the
  handler registers the Lambda context on every invocation). It only has to
  cover one ``UpdateItem`` inside one step, not a whole execution: that is the
  gap of handler-level idempotency that this placement avoids.

``store`` is created at import, as the decorator needs it, but it looks up
its table name (``settings``) and its client (``clients``) when it is used, so
importing the handler creates no AWS client and tests can swap the client.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from _shared import clients

from ingest import settings

KEY = "record_id"
BUSINESS_FIELDS = "[account_id, amount, currency, occurred_at]"


class _DynamoDBWhenUsed:
    """Stands in for a boto3 DynamoDB client; each call goes to ``clients.client("dynamodb")``."""

    def __getattr__(self, name: str) -> Any:
        if name == "meta":
            # Powertools registers a user-agent hook on the client's events when the layer is
            # built (at import): that would create the client at import. The hook is optional.
            raise AttributeError(name)
        return getattr(clients.client("dynamodb"), name)


class LedgerIdempotencyStore(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB persistence layer with its table and client resolved on use."""

    def __init__(self) -> None:
        super().__init__(table_name="", boto3_client=_DynamoDBWhenUsed())  # type: ignore[arg-type]

    @property  # type: ignore[override]
    def table_name(self) -> str:
        return settings.idempotency_table()

    @table_name.setter
    def table_name(self, _value: str) -> None:
        """Ignored: the name comes from IDEMPOTENCY_TABLE when the table is used."""


def mark_duplicate(response: Any, record: DataRecord) -> Any:
    """Powertools calls this only when it returns a stored result instead of running the function."""
    if isinstance(response, dict):
        return {**response, "duplicate": True}
    return response


store = LedgerIdempotencyStore()

config = IdempotencyConfig(
    event_key_jmespath=KEY,
    payload_validation_jmespath=BUSINESS_FIELDS,
    raise_on_no_idempotency_key=True,
    # Read once, at import: Powertools copies the config into the store on first use.
    expires_after_seconds=settings.idempotency_seconds(),
    response_hook=mark_duplicate,
)
