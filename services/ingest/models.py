"""What the ingest function accepts: the SQS batch and, in each message body, one business record.

Powertools Parser, in two layers, because the two can fail for different reasons:

1. ``SqsModel`` parses the whole batch (the envelope Lambda's poller sends).
   If *that* fails, the event is not an SQS batch at all: the handler raises,
   the execution fails, and the whole batch stays on the queue.
2. ``LedgerRecord`` validates each message body on its own. One bad body must
   not sink its neighbours, so this layer never raises: every message ends up
   either ``Accepted`` (with its validated record) or ``Rejected`` (with a
   readable reason). Powertools' ``SqsEnvelope`` is not used for this layer:
   it validates every body with one model and raises for the whole batch on
   the first bad one.

Parsing is deterministic and runs before any durable operation, so re-running
it on every replay is safe, and a rejected record can never be half-written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.parser.models import SqsModel
from pydantic import AwareDatetime, ConfigDict, Field, ValidationError, field_validator

# Ids end up in DynamoDB keys, step names and log lines: a conservative alphabet.
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]

# The currencies the enrichment has a rate for (``enrichment.RATES_TO_EUR``).
Currency = Literal["EUR", "USD", "GBP", "CHF"]

# A reason longer than this is cut: it goes into a log line and a DynamoDB item.
MAX_REASON_LENGTH = 500


class LedgerRecord(BaseModel):
    """One business record, as producers send it in a message body (JSON).

    ``amount`` is signed (credits and debits) but never zero, with at most two
    decimals; ``occurred_at`` must carry a time zone, so two producers cannot
    mean different instants with the same string.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_id: Identifier
    account_id: Identifier
    # Decimal, not float: money. Accepted as a JSON number or a string ("12.50").
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    currency: Currency
    occurred_at: AwareDatetime

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("amount must not be zero")
        return value


class InvalidBatchError(ValueError):
    """The event is not an SQS batch: the execution fails and the whole batch is retried."""


@dataclass(frozen=True)
class Accepted:
    """A message whose body is a valid record."""

    message_id: str
    record: LedgerRecord
    receive_count: int


@dataclass(frozen=True)
class Rejected:
    """A message whose body is not a valid record, and why."""

    message_id: str
    reason: str
    receive_count: int
    # The record id if the body had a readable one: it helps whoever reads the DLQ.
    record_id: str | None = None


@dataclass
class Batch:
    """Every message of one SQS batch, each either accepted or rejected, in batch order."""

    messages: list[Accepted | Rejected] = field(default_factory=list)

    @property
    def accepted(self) -> list[Accepted]:
        return [m for m in self.messages if isinstance(m, Accepted)]

    @property
    def rejected(self) -> list[Rejected]:
        return [m for m in self.messages if isinstance(m, Rejected)]


def describe(error: ValidationError) -> str:
    """A one-line reason from a pydantic error: ``field: problem; field: problem``."""
    reason = "; ".join(
        f"{'.'.join(str(part) for part in issue['loc']) or '<body>'}: {issue['msg']}"
        for issue in error.errors(include_url=False)
    )
    return reason[:MAX_REASON_LENGTH]


def _record_id_of(body: str) -> str | None:
    """The ``record_id`` of a body that failed validation, if it has a plain one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    record_id = data.get("record_id") if isinstance(data, dict) else None
    return record_id[:64] if isinstance(record_id, str) and record_id else None


def parse_record(body: str) -> LedgerRecord:
    """Validate one message body (raises pydantic's ``ValidationError``)."""
    return LedgerRecord.model_validate_json(body)


def parse_batch(event: Any) -> Batch:
    """Parse an SQS batch; sort its messages into accepted and rejected (batch order kept)."""
    try:
        envelope = parse(event=event, model=SqsModel)
    except ValidationError as error:
        raise InvalidBatchError(f"not an SQS batch: {describe(error)}") from None
    batch = Batch()
    for message in envelope.Records:
        receive_count = int(message.attributes.ApproximateReceiveCount)
        try:
            record = parse_record(message.body)
        except ValidationError as error:
            batch.messages.append(
                Rejected(message.messageId, describe(error), receive_count, _record_id_of(message.body))
            )
        else:
            batch.messages.append(Accepted(message.messageId, record, receive_count))
    return batch
