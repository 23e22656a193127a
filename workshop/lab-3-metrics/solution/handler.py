"""Lab 3 — Metrics, solution: the practice of the Powertools durable-functions page.

- Stage 1: the namespace and service the dashboards expect ("Workshop",
  service "order-saga"); Powertools adds the service as a dimension.
- Stage 2: `OrderPlaced` is added inside the reservation step (run_saga's
  `on_reserved` hook): a completed step never runs again, so the order is
  counted once however many times the handler replays.
- Stage 3: the outcome metric is added after `run_saga` returns. Everything
  before that line may be replayed; the code after the last suspension runs
  in exactly one invocation. No `finally`: a suspension is an exception that
  unwinds through it, so a `finally` runs in every suspended invocation.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from order_saga import parse_order, run_saga

metrics = Metrics(namespace="Workshop", service="order-saga")


def count_order_placed() -> None:
    """Runs inside the reservation step: once per order."""
    metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    order = parse_order(event)

    outcome = run_saga(context, order, on_reserved=count_order_placed)

    # After the last suspension: this line runs once, when the execution finishes.
    metrics.add_metric(name=f"Order{outcome.status.title()}", unit=MetricUnit.Count, value=1)
    return outcome.to_dict()
