"""Lab 1 — Logger. This is the file you edit (a copy of it is kept in starter/).

The order saga's steps live in services/order_saga (`run_saga`); this handler
only receives the order, runs the saga and reports the outcome. It logs the
way most Lambda functions do: a Powertools Logger, called directly.

Run `make lab-1` to see what that does in a durable function, then follow
workshop/lab-1-logger/README.md stage by stage.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools import Logger

from order_saga import metrics, parse_order, run_saga

# TODO (Part 1): structured JSON with the Lambda context: name the service, and let the Logger
# see Lambda's context object.
logger = Logger()


@metrics.log_metrics
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    # TODO (Part 2): once per execution, not once per invocation: this body runs again after every suspension.
    # TODO (Part 3): one key for the whole execution, on every line.
    order = parse_order(event)
    logger.info("Order received", extra={"order_id": order.order_id, "items": len(order.items)})

    outcome = run_saga(context, order)

    logger.info("Order finished", extra={"order_id": order.order_id, "status": str(outcome.status)})
    return outcome.to_dict()
