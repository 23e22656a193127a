"""Lab 3 — Metrics. This is the file you edit (a copy of it is kept in starter/).

The order saga's steps live in services/order_saga (`run_saga`); this handler
counts orders the way a plain Lambda function would: a metric when the order
arrives, and the outcome recorded in a `finally` so it is never missed.

Run `make lab-3` to see what that counts in a durable function, then follow
workshop/lab-3-metrics/README.md stage by stage.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from order_saga import parse_order, run_saga

# TODO (Part 1): namespace and dimensions.
metrics = Metrics(namespace="OrderSaga")


@metrics.log_metrics
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    order = parse_order(event)
    # TODO (Part 2): OrderPlaced once per execution.
    metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)

    # TODO (Part 3): the outcome once, when the execution finishes.
    status = "Pending"
    try:
        outcome = run_saga(context, order)
        status = outcome.status.title()
        return outcome.to_dict()
    finally:
        # Record the outcome whatever happens: OrderCompleted, OrderCompensated, ...
        metrics.add_metric(name=f"Order{status}", unit=MetricUnit.Count, value=1)
