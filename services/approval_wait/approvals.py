"""The ``approvals`` table: where a waiting request is recorded so people can find and answer it.

One item per request, partition key ``request_id`` (S)::

    request_id      "exp-1001"
    callback_id     the callback the execution waits on *now* (changes on escalation)
    status          PENDING | ESCALATED | APPROVED | REJECTED
    stage           approver | escalation   (who is being asked)
    employee, amount ("800.00", S), currency, description
    execution_arn   the durable execution that waits
    signature       the notification's HMAC (``notification``), never the secret
    created_at, updated_at   ISO-8601 UTC, the function's own (real) clock
    decided_reason  with APPROVED / REJECTED: the result's ``reason``

``workshop approvals`` lists items in PENDING or ESCALATED; ``workshop approve``
/ ``reject`` answer the item's current ``callback_id`` through the Lambda API.
Writes are plain puts and updates that set the same values when repeated, so a
step that runs twice (steps are at-least-once) leaves the same item.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from _shared import clients

from approval_wait import settings

PENDING = "PENDING"
ESCALATED = "ESCALATED"
WAITING = (PENDING, ESCALATED)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_waiting(
    *,
    request_id: str,
    callback_id: str,
    stage: str,
    status: str,
    expense: dict[str, Any],
    execution_arn: str | None,
    signature: str,
) -> None:
    """Put (or replace) the request's item: who is asked, on which callback."""
    now = _now()
    table = settings.approvals_table()
    dynamodb = clients.client("dynamodb")
    existing = dynamodb.get_item(TableName=table, Key={"request_id": {"S": request_id}}, ConsistentRead=True).get("Item")
    created = (existing or {}).get("created_at", {}).get("S") or now
    item = {
        "request_id": {"S": request_id},
        "callback_id": {"S": callback_id},
        "status": {"S": status},
        "stage": {"S": stage},
        "employee": {"S": str(expense["employee"])},
        "amount": {"S": str(expense["amount"])},
        "currency": {"S": str(expense["currency"])},
        "description": {"S": str(expense.get("description") or "")},
        "signature": {"S": signature},
        "created_at": {"S": created},
        "updated_at": {"S": now},
    }
    if execution_arn:
        item["execution_arn"] = {"S": execution_arn}
    dynamodb.put_item(TableName=table, Item=item)


def record_decision(request_id: str, status: str, reason: str) -> None:
    """Mark the request decided: it leaves the CLI's list of waiting requests."""
    clients.client("dynamodb").update_item(
        TableName=settings.approvals_table(),
        Key={"request_id": {"S": request_id}},
        UpdateExpression="SET #status = :status, decided_reason = :reason, updated_at = :now",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": {"S": status}, ":reason": {"S": reason}, ":now": {"S": _now()}},
    )
