"""The ledger table: one item per record (partition key ``record_id``).

``post`` is deliberately *not* idempotent by itself: it sets the entry's
fields and adds 1 to ``writes``. An item with ``writes`` above 1 is a record
that was posted twice, the failure this service is built to prevent (the
handler posts through Powertools Idempotency and ``post_once``), and the
number a lab's starter makes visible. A real ledger would add the amount to a balance the
same way, and a second post would be money counted twice.

One ``UpdateItem`` per record: an entry is written completely or not at all,
never half.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from _shared import clients

from ingest import settings

_FIELDS = (
    "account_id", "amount", "currency", "occurred_at", "amount_eur", "fx_rate", "band",
    "message_id", "ingested_at",
)  # fmt: skip
_NUMBERS = {"amount", "amount_eur", "fx_rate"}


def post(entry: dict[str, Any], only_if_new: bool = False) -> dict[str, Any]:
    """Write one enriched entry; return what was posted (a step result: small, JSON).

    ``only_if_new`` makes the write conditional on the record having no entry
    yet (ConditionalCheckFailedException otherwise): see ``post_once``.
    """
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
        **({"ConditionExpression": "attribute_not_exists(record_id)"} if only_if_new else {}),
    )
    return {
        "record_id": entry["record_id"],
        "message_id": entry["message_id"],
        "amount_eur": entry["amount_eur"],
        "writes": int(response["Attributes"]["writes"]["N"]),
    }


def post_once(entry: dict[str, Any]) -> dict[str, Any]:
    """Post the entry unless the record already has one; then return that first post.

    Powertools Idempotency stops a second post while the first may still be
    running (its INPROGRESS record) and after it completed. One window is
    left: the first attempt wrote the entry and died before Powertools stored
    COMPLETED (a worker killed, the function host restarted); once the
    INPROGRESS record expires, a retry would post again. Seen in the fault test
    that restarts the host mid-batch. The condition closes it in the table.
    """
    try:
        return post(entry, only_if_new=True)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
    item = clients.client("dynamodb").get_item(
        TableName=settings.ledger_table(), Key={"record_id": {"S": entry["record_id"]}}, ConsistentRead=True
    )["Item"]
    return {
        "record_id": entry["record_id"],
        "message_id": item["message_id"]["S"],
        "amount_eur": entry["amount_eur"],
        "writes": int(item["writes"]["N"]),
    }
