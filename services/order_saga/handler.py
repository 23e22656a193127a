"""The order saga: a durable function (handler ``order_saga.handler.lambda_handler``).

Flow (operation names in quotes; they are fixed strings, the same on every replay)::

    validate payload (Parser, before any step)  --invalid--> execution FAILED, no side effects
    "reserve-inventory"        step: DynamoDB conditional updates
        out of stock  -> REJECTED, nothing to compensate
    "charge-payment"           with_retry child context around context.invoke of the payment
                               function ("charge-payment-attempt-<n>"); transient errors retried
        declined / failed for good -> release stock -> COMPENSATED
    "prepare-warehouse-request" step: callback timeout from SSM (Powertools Parameters)
    "warehouse-confirmation"   callback with that timeout
    "notify-warehouse"         step: async invoke of the warehouse with the callback id
        rejected / timed out / failed -> refund, then release -> COMPENSATED
    COMPLETED

The result shape is documented in ``order_saga.outcome``.

Powertools, the way the "Durable Functions" page recommends:

- Parser validates the payload inside the handler. (``@event_parser`` above
  ``@durable_execution`` would see the durable invocation envelope, not the
  order: the decorator outside the SDK's receives what Lambda sends.)
- Logger: ``context.set_logger(logger)`` and only ``context.logger`` here, so a
  line is written once per execution, not once per replay. Steps log through
  their own ``step.logger``.
- Tracer: ``capture_lambda_handler`` gives every invocation a segment,
  annotated with the execution ARN (by ``annotate_execution``, outside the
  durable handler: see ``observability``) to tie an execution's segments
  together; business functions run inside steps carry ``capture_method``.
- Metrics: ``OrderPlaced`` is added inside the reservation step and the
  outcome metric after the last suspension; ``log_metrics`` flushes what an
  invocation added (EMF on stdout) when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python import (
    CallbackExternalError,
    CallbackTimeoutError,
    ChildContextError,
    DurableContext,
    DurableOperationError,
    StepContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import StepConfig, StepSemantics
from aws_lambda_powertools.metrics import MetricUnit

from order_saga import fulfilment, inventory, payments
from order_saga.compensation import Compensations
from order_saga.errors import InvalidOrderError
from order_saga.models import Order, parse_order
from order_saga.observability import annotate_execution, logger, metrics, tracer
from order_saga.outcome import Reason, SagaOutcome, Status
from order_saga.retries import compensation_retry, reservation_retry

RESERVE_STEP = "reserve-inventory"
RELEASE_STEP = "release-inventory"

_OUTCOME_METRIC = {
    Status.COMPLETED: "OrderCompleted",
    Status.COMPENSATED: "OrderCompensated",
    Status.REJECTED: "OrderRejected",
}


def count_order_placed() -> None:
    """``OrderPlaced``, added inside the reservation step: a completed step never runs again."""
    metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)


def reserve(
    context: DurableContext, order: Order, on_reserved: Callable[[], None] | None = None
) -> inventory.Reservation:
    """Step ``reserve-inventory``. AT_MOST_ONCE_PER_RETRY: see ``retries.reservation_retry``.

    ``on_reserved`` runs inside the step, after the reservation is written: where
    a caller counts the order (the handler passes ``count_order_placed``; lab 3
    passes its own). It runs once per step attempt that gets that far, so once
    per order unless the step is retried after it (lab 3's README says why).
    """

    def run(step: StepContext) -> inventory.Reservation:
        reservation = inventory.reserve_items(order.items, order.simulate.out_of_stock)
        if on_reserved is not None:
            on_reserved()
        step.logger.info(
            "Inventory reservation done", extra={"order_id": order.order_id, **reservation}
        )
        return reservation

    return context.step(
        run,
        name=RESERVE_STEP,
        config=StepConfig(
            retry_strategy=reservation_retry,
            step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
        ),
    )


def release(context: DurableContext, order: Order) -> Any:
    """Step ``release-inventory``: the compensation of ``reserve``."""

    def run(step: StepContext) -> Any:
        released = inventory.release_items(order.items)
        step.logger.info("Inventory released", extra={"order_id": order.order_id})
        return released

    return context.step(
        run, name=RELEASE_STEP, config=StepConfig(retry_strategy=compensation_retry)
    )


def run_saga(
    context: DurableContext, order: Order, on_reserved: Callable[[], None] | None = None
) -> SagaOutcome:
    """Run the saga's steps and compensations; return the business outcome.

    It adds no metric itself: the handler decides what to count and where
    (``on_reserved`` runs inside the reservation step), so a lab can vary that.
    """
    reservation = reserve(context, order, on_reserved)
    if not reservation["reserved"]:
        return SagaOutcome(
            order_id=order.order_id,
            status=Status.REJECTED,
            reason=Reason.OUT_OF_STOCK,
            detail=f"{reservation['unavailable_sku']} is out of stock",
        )

    undo = Compensations()
    undo.push(RELEASE_STEP, lambda: release(context, order))

    def compensated(
        reason: Reason, detail: str | None, payment_id: str | None = None
    ) -> SagaOutcome:
        context.logger.warning(
            "Compensating the order",
            extra={"order_id": order.order_id, "reason": str(reason), "detail": detail},
        )
        return SagaOutcome(
            order_id=order.order_id,
            status=Status.COMPENSATED,
            reason=reason,
            detail=detail,
            compensations=undo.unwind(),
            payment_id=payment_id,
        )

    try:
        charge = payments.charge_payment(context, order)
    except ChildContextError as error:
        return compensated(Reason.PAYMENT_FAILED, error.message)
    if not charge["charged"]:
        return compensated(Reason.CARD_DECLINED, charge["detail"])

    payment_id = (charge["payment"] or {}).get("payment_id")
    undo.push(payments.REFUND_OPERATION, lambda: payments.refund_payment(context, order))

    try:
        confirmation = fulfilment.await_warehouse(context, order)
    except CallbackExternalError as error:
        return compensated(Reason.WAREHOUSE_REJECTED, error.message, payment_id)
    except CallbackTimeoutError as error:
        return compensated(Reason.WAREHOUSE_TIMEOUT, error.message, payment_id)
    except DurableOperationError as error:
        return compensated(Reason.FULFILMENT_FAILED, error.message, payment_id)

    return SagaOutcome(
        order_id=order.order_id,
        status=Status.COMPLETED,
        payment_id=payment_id,
        shipment_id=confirmation.get("shipment_id"),
    )


def record_outcome(outcome: SagaOutcome) -> None:
    """Add the outcome metric. Call only after the last suspension: it must run once."""
    metrics.add_metric(name=_OUTCOME_METRIC[outcome.status], unit=MetricUnit.Count, value=1)
    if outcome.compensations:
        metrics.add_metric(
            name="CompensationsRun", unit=MetricUnit.Count, value=len(outcome.compensations)
        )
    metrics.add_metadata(key="order_id", value=outcome.order_id)
    if outcome.reason:
        metrics.add_metadata(key="reason", value=str(outcome.reason))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@annotate_execution
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)

    try:
        order = parse_order(event)
    except InvalidOrderError as error:
        # An invalid order fails its first (and only) invocation: this runs once per execution.
        context.logger.error("Order failed validation", extra={"error": str(error)})
        metrics.add_metric(name="OrderInvalid", unit=MetricUnit.Count, value=1)
        raise

    context.logger.info(
        "Order received", extra={"order_id": order.order_id, "items": len(order.items)}
    )

    outcome = run_saga(context, order, on_reserved=count_order_placed)

    # Past this point nothing suspends: this code runs in exactly one invocation.
    record_outcome(outcome)
    result = outcome.to_dict()
    context.logger.info("Order saga finished", extra=result)
    return result
