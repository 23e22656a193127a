"""What the ingest function adds to a record before posting it.

- ``amount_eur`` and ``fx_rate``: the amount in the ledger's currency, from a
  fixed rate table (a real service would read a rates feed; a table keeps the
  workshop offline and the results predictable).
- ``band``: "large" from 10,000 EUR (either sign), else "standard".
- ``ingested_at``: when this record was enriched. Not deterministic, which is
  exactly why enrichment runs inside a step: the step's checkpointed result is
  what every replay sees, so the value never changes under the execution.
- ``message_id``: the SQS message the record came in.

The business fields are normalised here (amount to two decimals, the time to
UTC) so that two deliveries of the same record compare equal, which
Powertools' payload validation relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ingest.models import LedgerRecord

LEDGER_CURRENCY = "EUR"
RATES_TO_EUR: dict[str, Decimal] = {
    "EUR": Decimal("1"),
    "USD": Decimal("0.92"),
    "GBP": Decimal("1.17"),
    "CHF": Decimal("1.05"),
}
LARGE_FROM_EUR = Decimal("10000")
_CENTS = Decimal("0.01")


def enrich(record: LedgerRecord, message_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The ledger entry for a record: JSON-friendly (it is a step result), money as strings."""
    rate = RATES_TO_EUR[record.currency]
    amount_eur = (record.amount * rate).quantize(_CENTS)
    return {
        "record_id": record.record_id,
        "account_id": record.account_id,
        "amount": str(record.amount.quantize(_CENTS)),
        "currency": record.currency,
        "occurred_at": record.occurred_at.astimezone(UTC).isoformat(),
        "amount_eur": str(amount_eur),
        "fx_rate": str(rate),
        "band": "large" if abs(amount_eur) >= LARGE_FROM_EUR else "standard",
        "message_id": message_id,
        "ingested_at": (now or datetime.now(UTC)).isoformat(),
    }
