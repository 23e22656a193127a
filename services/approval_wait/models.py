"""The expense payload, validated with Powertools Parser (pydantic) before any durable operation.

An invalid expense ends the execution with ``InvalidExpenseError`` and no side
effect: nothing is checkpointed before the first operation, and parsing is
deterministic, so re-running it on every replay is safe. Unknown fields are
rejected (a typo fails loudly).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from pydantic import ConfigDict, Field, ValidationError

# Request ids become DynamoDB keys, execution names and CLI arguments.
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class InvalidExpenseError(ValueError):
    """The expense payload failed validation; the execution fails before any step."""


class Expense(BaseModel):
    """An expense to decide on: the function's input."""

    model_config = ConfigDict(extra="forbid")

    request_id: Identifier
    employee: Annotated[str, Field(min_length=1, max_length=128)]
    amount: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    description: Annotated[str, Field(max_length=500)] = ""

    def amount_text(self) -> str:
        """The amount as a plain two-decimal string ("800.00"), how it is stored and returned."""
        return f"{self.amount:.2f}"


def parse_expense(event: Any) -> Expense:
    try:
        return parse(event=event, model=Expense)
    except ValidationError as error:
        raise InvalidExpenseError(f"invalid expense: {error}") from None
    except Exception as error:  # Powertools wraps some failures (e.g. not a dict) in its own error
        raise InvalidExpenseError(f"invalid expense: {error}") from None
