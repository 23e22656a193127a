"""The ledger table: one item per record (partition key ``record_id``).

``post`` is deliberately *not* idempotent by itself: it sets the entry's
fields and adds 1 to ``writes``. An item with ``writes`` above 1 is a record
that was posted twice, the failure this service is built to prevent (the
handler wraps ``post`` in Powertools Idempotency), and the number a lab's
starter makes visible. A real ledger would add the amount to a balance the
same way, and a second post would be money counted twice.

One ``UpdateItem`` per record: an entry is written completely or not at all,
never half.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ingest import clients, settings

_FIELDS = (
    "account_id", "amount", "currency", "occurred_at", "amount_eur", "fx_rate", "band",
    "message_id", "ingested_at",
)  # fmt: skip
_NUMBERS = {"amount", "amount_eur", "fx_rate"}


def post(entry: dict[str, Any]) -> dict[str, Any]:
    """Write one enriched entry; return what was posted (a step result: small, JSON)."""
    names = {f"#{name}": name for name in _FIELDS}
    values: dict[str, Any] = {
        f":{name}": {"N" if name in _NUMBERS else "S": str(entry[name])} for name in _FIELDS
    }
    values[":posted_at"] = {"S": datetime.now(UTC).isoformat()}
    values[":one"] = {"N": "1"}
    assignments = ", ".join(f"#{name} = :{name}" for name in _FIELDS)
    response = clients.client("dynamodb").update_item(
        TableName=settings.ledger_table(),
        Key={"record_id": {"S": entry["record_id"]}},
        UpdateExpression=f"SET {assignments}, #posted_at = :posted_at ADD #writes :one",
        ExpressionAttributeNames={**names, "#posted_at": "posted_at", "#writes": "writes"},
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    return {
        "record_id": entry["record_id"],
        "message_id": entry["message_id"],
        "amount_eur": entry["amount_eur"],
        "writes": int(response["Attributes"]["writes"]["N"]),
    }
