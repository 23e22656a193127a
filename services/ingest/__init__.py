"""SQS ingest: a durable function that posts validated, enriched records to a ledger, once each.

An SQS queue (with a DLQ) triggers the function through an event source
mapping; every batch is one durable execution. Modules, one idea each:

- ``handler``     the durable function (``ingest.handler.lambda_handler``): the only module a lab replaces
- ``models``      the business record and the batch (Powertools Parser: SqsModel + a pydantic model)
- ``enrichment``  what is added to a record before it is posted (EUR amount, size band, time)
- ``ledger``      the ledger table: one plain, deliberately non-idempotent write per record
- ``idempotency`` Powertools Idempotency's DynamoDB persistence layer and configuration
- ``rejections``  why a message was rejected, keyed by its SQS message id (the DLQ's explanation)
- ``retries``     the retry strategy of the posting step
- ``settings``    environment variables, read when used
- ``clients``     the one place boto3 clients are created (tests replace it)
- ``observability`` the Powertools Logger and Metrics

The labs import only the names in ``__all__``: the modules ``handler`` (lab 5
calls it ``service``), ``idempotency`` and ``ledger``, and the names below.
Those from the handler and the observability module (Powertools objects, the
durable SDK) are imported on first use, not here, so ``from ingest import
idempotency`` does not build them. Why, at length: ``_shared/exports.py``.
"""

from _shared.exports import lazy_exports

__all__ = [
    "COMES_BACK", "REJECTED", "ingest", "record_metrics", "reject",  # the durable function's pieces
    "Accepted", "LedgerRecord", "Rejected", "describe", "parse_batch",  # the record and the batch
    "logger", "metrics",
    "handler", "idempotency", "ledger",  # whole modules
]  # fmt: skip

__getattr__, __dir__ = lazy_exports(globals(), {
    ".handler": ["COMES_BACK", "REJECTED", "ingest", "record_metrics", "reject"],
    ".models": ["Accepted", "LedgerRecord", "Rejected", "describe", "parse_batch"],
    ".observability": ["logger", "metrics"],
})  # fmt: skip
