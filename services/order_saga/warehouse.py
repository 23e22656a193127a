"""The simulated warehouse: a plain Lambda function that answers the saga's callback.

Handler: ``order_saga.warehouse.lambda_handler``, invoked asynchronously by
the saga's ``notify-warehouse`` step with::

    {"callback_id": "...", "order_id": "o-1", "items": [...], "behaviour": "confirm",
     "execution_arn": "arn:aws:lambda:...:function:order-saga:1/durable-execution/..."}

What it does, by ``behaviour``:

- ``confirm``: SendDurableExecutionCallbackSuccess with
  ``{"order_id", "status": "CONFIRMED", "shipment_id"}`` (JSON bytes).
- ``reject``: SendDurableExecutionCallbackFailure with
  ``{"ErrorType": "WarehouseRejected", "ErrorMessage": ...}``.
- ``silent``: nothing; the saga's callback times out and it compensates.
- ``manual``: nothing but a log line with the callback id; a human answers
  (``workshop`` CLI, or ``aws lambda send-durable-execution-callback-success``).

Before it answers (``confirm`` or ``reject``), it waits until the saga's
history shows the execution suspended on the callback, at most
WAREHOUSE_SUSPENSION_WAIT_SECONDS (unset: it answers at once): a real
warehouse answers long after the saga suspended, this one within milliseconds,
which would let the saga pick the answer up before it ever suspended (see
``order_saga.suspension``). It needs the saga's ``execution_arn`` in the
request for that; without one it answers at once.

The calls go through ``boto3.client("lambda")``; AWS_ENDPOINT_URL_LAMBDA points
them at the local function host when the stack runs on a laptop.

An answer to a callback that is already closed (a duplicate hand-off, or a
human was faster) fails at the service; the warehouse logs it and moves on.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ConfigDict, Field

from _shared import clients
from order_saga import settings
from order_saga.models import Identifier
from order_saga.observability import logger, tracer
from order_saga.suspension import wait_until_suspended_on

REJECTION_TYPE = "WarehouseRejected"


class WarehouseRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    callback_id: str = Field(min_length=1)
    order_id: Identifier
    items: list[dict[str, Any]] = Field(default_factory=list)
    behaviour: Literal["confirm", "reject", "silent", "manual"] = "confirm"
    # The saga's execution, where the warehouse sees it suspended on the callback.
    execution_arn: str | None = None


def shipment_id_for(order_id: str) -> str:
    """Deterministic shipment id, so a repeated confirmation says the same thing."""
    return f"ship-{order_id}"


@tracer.capture_method
def confirm(request: WarehouseRequest) -> dict[str, Any]:
    answer = {
        "order_id": request.order_id,
        "status": "CONFIRMED",
        "shipment_id": shipment_id_for(request.order_id),
    }
    clients.client("lambda").send_durable_execution_callback_success(
        CallbackId=request.callback_id,
        Result=json.dumps(answer).encode(),
    )
    return answer


@tracer.capture_method
def reject(request: WarehouseRequest) -> dict[str, Any]:
    error = {
        "ErrorType": REJECTION_TYPE,
        "ErrorMessage": f"warehouse cannot ship order {request.order_id}",
    }
    clients.client("lambda").send_durable_execution_callback_failure(
        CallbackId=request.callback_id,
        Error=error,
    )
    return {"order_id": request.order_id, "status": "REJECTED", "error": error}


def await_suspension(request: WarehouseRequest, log_keys: dict[str, Any]) -> None:
    """Hold the answer until the saga is suspended on the callback (or the wait runs out: say so)."""
    wait_s = settings.warehouse_suspension_wait_seconds()
    if not request.execution_arn or wait_s <= 0:
        return
    try:
        missing = wait_until_suspended_on(
            clients.client("lambda"), request.execution_arn, request.callback_id, wait_s
        )
    except (BotoCoreError, ClientError) as error:
        missing = f"a readable history ({error})"
    if missing is not None:
        logger.warning(
            "Answering before the saga was seen suspended on the callback",
            extra={**log_keys, "waited_seconds": wait_s, "not_seen": missing},
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=WarehouseRequest)
    tracer.put_annotation("order_id", request.order_id)
    log_keys = {
        "order_id": request.order_id,
        "callback_id": request.callback_id,
        "behaviour": request.behaviour,
    }

    if request.behaviour in ("silent", "manual"):
        if request.behaviour == "manual":
            logger.info("Waiting for a human to answer the callback", extra=log_keys)
        else:
            logger.info("Staying silent: the saga's callback will time out", extra=log_keys)
        return {"order_id": request.order_id, "status": "NO_ANSWER"}

    await_suspension(request, log_keys)
    try:
        answer = confirm(request) if request.behaviour == "confirm" else reject(request)
    except ClientError as error:
        # Already answered (duplicate hand-off) or the execution is gone: nothing left to do.
        logger.warning("Callback answer not accepted", extra={**log_keys, "error": str(error)})
        return {"order_id": request.order_id, "status": "IGNORED", "error": str(error)}
    logger.info("Warehouse answered", extra={**log_keys, "status": answer["status"]})
    return answer
