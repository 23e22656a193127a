"""Why a message was rejected, kept where whoever empties the DLQ can find it.

SQS cannot carry a reason into the DLQ: a redrive moves the message as it
was, and a message's attributes cannot be changed after it was sent. The
message id, however, survives the move. So every rejection is written here,
keyed by ``message_id`` (one put per delivery: the latest reason and receive
count win), and logged as a structured line with the same ``messageId``.

Items expire with the DLQ's retention (``expiration``, a TTL attribute).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from _shared import clients

from ingest import settings
from ingest.models import Rejected


def record(rejection: Rejected) -> dict[str, Any]:
    """Put the rejection; return it as a small dict (a step result)."""
    now = datetime.now(UTC)
    item: dict[str, Any] = {
        "message_id": {"S": rejection.message_id},
        "reason": {"S": rejection.reason},
        "receive_count": {"N": str(rejection.receive_count)},
        "rejected_at": {"S": now.isoformat()},
        "expiration": {"N": str(int(now.timestamp()) + settings.REJECTION_RETENTION_SECONDS)},
    }
    if rejection.record_id:
        item["record_id"] = {"S": rejection.record_id}
    clients.client("dynamodb").put_item(TableName=settings.rejections_table(), Item=item)
    return {
        "message_id": rejection.message_id,
        "record_id": rejection.record_id,
        "reason": rejection.reason,
        "receive_count": rejection.receive_count,
    }
