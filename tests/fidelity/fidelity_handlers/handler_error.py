"""A step succeeds, then the handler raises: the execution fails.

Why: an exception that escapes the handler is not retried; it ends the
execution FAILED with the exception's type and message, and the step before
it stays SUCCEEDED in the history.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


class InvoiceRejectedError(Exception):
    """The business failure that ends the execution."""


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    amount = context.step(lambda _: 1200, name="read-amount")
    raise InvoiceRejectedError(f"amount {amount} is over the limit")
