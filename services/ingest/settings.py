"""Environment variables the ingest function reads, each looked up when it is used.

The template (infra/template.yaml, "SQS ingest") sets them all. They are
stable for the life of a deployed function version, so reading them in code
that replays returns the same value every time.
"""

from __future__ import annotations

import os

from _shared.settings import MissingSettingError  # noqa: F401 - raised by every setting below; callers catch it from here
from _shared.settings import required as _required

# Seven days. Must outlast every way a duplicate can arrive: the queue keeps a
# message for MessageRetentionPeriod (four days in the template), and a
# producer retrying a send may repeat a record a little later still.
DEFAULT_IDEMPOTENCY_SECONDS = 7 * 24 * 3600

# How long the reason for a rejected message is kept: the DLQ's retention (14 days).
REJECTION_RETENTION_SECONDS = 14 * 24 * 3600


def ledger_table() -> str:
    """DynamoDB table of posted records: partition key ``record_id`` (S)."""
    return _required("LEDGER_TABLE")


def idempotency_table() -> str:
    """Powertools Idempotency's table: partition key ``id`` (S), TTL attribute ``expiration``."""
    return _required("IDEMPOTENCY_TABLE")


def rejections_table() -> str:
    """DynamoDB table of rejected messages: partition key ``message_id`` (S), TTL ``expiration``."""
    return _required("REJECTIONS_TABLE")


def idempotency_seconds() -> int:
    """How long a posted record id is remembered (``IDEMPOTENCY_EXPIRES_AFTER_SECONDS``)."""
    raw = os.environ.get("IDEMPOTENCY_EXPIRES_AFTER_SECONDS")
    return int(raw) if raw else DEFAULT_IDEMPOTENCY_SECONDS
