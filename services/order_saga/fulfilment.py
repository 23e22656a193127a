"""The saga's side of the warehouse: hand the order over and wait for its answer.

Three durable operations, in this order:

1. step ``prepare-warehouse-request``: read the callback timeout (seconds)
   from the SSM parameter named by WAREHOUSE_TIMEOUT_PARAM, with Powertools
   Parameters. Inside a step, not at import and not in replayed code: the
   value is read when the saga gets there (fresh, even if the execution
   started hours ago) and checkpointed, so every replay uses the same timeout.
2. callback ``warehouse-confirmation`` (``context.create_callback``) with that
   timeout. Its callback id is what the warehouse, or a human with the CLI,
   answers with SendDurableExecutionCallbackSuccess / ...Failure. Outside the
   execution it is found in the history as the CallbackStarted event named
   ``warehouse-confirmation``.
3. step ``notify-warehouse``: asynchronously invoke the warehouse function
   (InvocationType="Event") with the callback id, the order id, the
   simulated behaviour and the execution's ARN (where the simulated
   warehouse sees the saga suspended before it answers, as a real one's
   answer comes long after: see ``order_saga.suspension``).

Then ``callback.result()`` suspends the execution (no compute is billed) until
the callback succeeds, fails or times out. The callback is created *before*
the hand-off, so even an instant answer finds it waiting.

The notify step may run more than once (at-least-once steps), so the
warehouse may get the same request twice; it ignores an answer the callback
has already received.
"""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration, StepConfig

from _shared import clients, parameters
from _shared.answers import answer_as_dict

from order_saga import settings
from order_saga.models import Order
from order_saga.observability import tracer
from order_saga.retries import step_retry

PREPARE_STEP = "prepare-warehouse-request"
CALLBACK = "warehouse-confirmation"
NOTIFY_STEP = "notify-warehouse"

# A warm execution environment may reuse a value this long (seconds).
PARAMETER_MAX_AGE = 60



@tracer.capture_method
def warehouse_timeout_seconds() -> int:
    """The callback timeout from SSM, validated (a whole number of seconds, at least 1)."""
    name = settings.warehouse_timeout_param()
    raw = parameters.ssm().get(name, max_age=PARAMETER_MAX_AGE)
    try:
        seconds = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"SSM parameter {name} must be a number of seconds, got {raw!r}") from None
    if seconds < 1:
        raise ValueError(f"SSM parameter {name} must be at least 1 second, got {seconds}")
    return seconds


@tracer.capture_method
def hand_over(callback_id: str, order: Order, execution_arn: str | None = None) -> dict[str, Any]:
    """Ask the warehouse (asynchronously) to ship the order and answer on ``callback_id``."""
    request = {
        "callback_id": callback_id,
        "order_id": order.order_id,
        "items": [item.model_dump() for item in order.items],
        "behaviour": order.simulate.warehouse,
        "execution_arn": execution_arn,
    }
    response = clients.client("lambda").invoke(
        FunctionName=settings.warehouse_function(),
        InvocationType="Event",
        Payload=json.dumps(request).encode(),
    )
    return {"status_code": response.get("StatusCode"), "behaviour": order.simulate.warehouse}


def _decode(result: Any) -> dict[str, Any]:
    """The warehouse's answer as a dict; a human may send any JSON, or plain text."""
    return answer_as_dict(result, "message", scalars_as_text=False)


def await_warehouse(context: DurableContext, order: Order) -> dict[str, Any]:
    """Hand the order to the warehouse and return its confirmation.

    Raises ``CallbackExternalError`` when the warehouse rejects,
    ``CallbackTimeoutError`` when nobody answers in time, ``StepError`` when
    a step fails for good. The saga turns each into a compensation.
    """

    def prepare(step: StepContext) -> dict[str, Any]:
        seconds = warehouse_timeout_seconds()
        step.logger.info("Warehouse callback timeout loaded", extra={"timeout_seconds": seconds})
        return {"timeout_seconds": seconds}

    prepared = context.step(prepare, name=PREPARE_STEP, config=StepConfig(retry_strategy=step_retry))

    callback = context.create_callback(
        name=CALLBACK,
        config=CallbackConfig(timeout=Duration.from_seconds(prepared["timeout_seconds"])),
    )

    execution_arn = context.execution_context.durable_execution_arn

    def notify(step: StepContext) -> dict[str, Any]:
        sent = hand_over(callback.callback_id, order, execution_arn)
        step.logger.info(
            "Order handed to the warehouse",
            extra={"order_id": order.order_id, "callback_id": callback.callback_id, **sent},
        )
        return sent

    context.step(notify, name=NOTIFY_STEP, config=StepConfig(retry_strategy=step_retry))

    return _decode(callback.result())
