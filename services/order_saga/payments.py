"""The saga's side of the payment function: charge and refund with ``context.invoke``.

Why a chained invoke and not a step that calls the payment API: the payment
function is its own Lambda function (its own role, logs, deployment), and
``context.invoke`` checkpoints the call. While the payment function runs, the
saga is suspended and not billed; on replay the stored result is returned
without calling it again.

``InvokeConfig`` has no retry setting, so retries come from the SDK's
``with_retry``: it runs a block in a child context (named ``charge-payment``)
and, when the block raises, asks the retry strategy, waits (a durable wait:
suspension + re-invoke, named ``charge-payment-backoff-<n>``) and runs the
block again. Each attempt is its own chained invoke,
``charge-payment-attempt-<n>``, so the history shows every try.
Names carry the attempt number and nothing else: they must be the same on
every replay.
"""

from __future__ import annotations

from typing import Any, TypedDict

from aws_durable_execution_sdk_python import DurableContext, InvokeError, WithRetryConfig, with_retry

from order_saga import settings
from order_saga.errors import PaymentDeclinedError, error_name
from order_saga.models import Order
from order_saga.retries import compensation_retry, transient_payment_retry

CHARGE_OPERATION = "charge-payment"
REFUND_OPERATION = "refund-payment"


class ChargeResult(TypedDict):
    """What the ``charge-payment`` block returns (and checkpoints)."""

    charged: bool
    payment: dict[str, Any] | None  # the payment record when charged
    detail: str | None  # why not, when declined


def charge_request(order: Order) -> dict[str, Any]:
    """The payment function's charge payload (JSON-ready: amount as a string)."""
    return {
        "action": "charge",
        "order_id": order.order_id,
        "amount": str(order.amount),
        "currency": order.currency,
        "simulate": {
            "card_declined": order.simulate.card_declined,
            "transient_payment_errors": order.simulate.transient_payment_errors,
        },
    }


def charge_payment(context: DurableContext, order: Order) -> ChargeResult:
    """Charge the order, retrying transient failures; a declined card is a result, not an error.

    Raises ``ChildContextError`` when the charge fails for good (retries
    exhausted, or an unexpected error): the saga compensates.
    """
    function_name = settings.payment_function()
    payload = charge_request(order)

    def attempt(ctx: DurableContext, number: int) -> ChargeResult:
        try:
            payment = ctx.invoke(function_name, payload, name=f"{CHARGE_OPERATION}-attempt-{number}")
        except InvokeError as error:
            if error_name(error.error_type) == PaymentDeclinedError.__name__:
                return ChargeResult(charged=False, payment=None, detail=error.message)
            raise
        return ChargeResult(charged=True, payment=payment, detail=None)

    return with_retry(
        context,
        attempt,
        WithRetryConfig(retry_strategy=transient_payment_retry),
        name=CHARGE_OPERATION,
    )


def refund_payment(context: DurableContext, order: Order) -> dict[str, Any]:
    """Compensation of ``charge_payment``: refund, retrying until it succeeds.

    The payment function's refund is idempotent, so a retried attempt whose
    first try did refund is harmless.
    """
    function_name = settings.payment_function()
    payload = {"action": "refund", "order_id": order.order_id}
    return with_retry(
        context,
        lambda ctx, number: ctx.invoke(function_name, payload, name=f"{REFUND_OPERATION}-attempt-{number}"),
        WithRetryConfig(retry_strategy=compensation_retry),
        name=REFUND_OPERATION,
    )
