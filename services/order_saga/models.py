"""The order payload, validated with Powertools Parser (pydantic models).

Why validate before the first step: an invalid order must end the execution
with a clear error and *no* side effects, and nothing is checkpointed before
the first durable operation. Parsing is deterministic, so re-running it on
every replay is safe and cheap.

``simulate`` lets a learner (or a test) choose a failure path through the same
payload; the defaults describe the happy path. Unknown fields are rejected so
a typo ("card_decline") fails loudly instead of silently taking the happy path.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from pydantic import ConfigDict, Field, ValidationError, model_validator

from order_saga.errors import InvalidOrderError

WarehouseBehaviour = Literal["confirm", "reject", "silent", "manual"]

# Ids end up in DynamoDB keys and log lines; a conservative alphabet keeps them readable.
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Simulation(BaseModel):
    """Failure injection, all off by default.

    - ``card_declined``: the payment function declines the card.
    - ``transient_payment_errors``: the payment function fails with a
      transient error this many times before it charges (the saga retries).
    - ``out_of_stock``: the reservation reports "out of stock" without
      touching the table (ordering more than is available does the same for real).
    - ``warehouse``: what the warehouse does with the hand-off: ``confirm``,
      ``reject``, ``silent`` (never answers: the callback times out) or
      ``manual`` (does nothing; a human answers with the CLI).
    """

    model_config = ConfigDict(extra="forbid")

    card_declined: bool = False
    transient_payment_errors: int = Field(default=0, ge=0, le=20)
    out_of_stock: bool = False
    warehouse: WarehouseBehaviour = "confirm"


class OrderItem(BaseModel):
    """One order line: a SKU and how many of it."""

    model_config = ConfigDict(extra="forbid")

    sku: Identifier
    quantity: int = Field(gt=0, le=1000)


class Order(BaseModel):
    """A customer order, the saga's input."""

    model_config = ConfigDict(extra="forbid")

    order_id: Identifier
    customer_id: Identifier
    items: list[OrderItem] = Field(min_length=1, max_length=25)
    # Decimal, not float: money. It travels as a string ("19.99") in payloads.
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    simulate: Simulation = Field(default_factory=Simulation)

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> Order:
        # One line per SKU keeps reservation and release one update per SKU.
        skus = [item.sku for item in self.items]
        if len(skus) != len(set(skus)):
            raise ValueError("each sku may appear only once in items")
        return self


def parse_order(event: dict) -> Order:
    """Validate the raw payload; raise ``InvalidOrderError`` with a readable message."""
    try:
        return parse(event=event, model=Order)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or '<payload>'}: {issue['msg']}"
            for issue in error.errors(include_url=False)
        )
        raise InvalidOrderError(f"invalid order: {problems}") from None
