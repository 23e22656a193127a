"""Lab 2 — Tracer. This is the file you edit (a copy of it is kept in starter/).

The order saga's steps live in services/order_saga (`run_saga`); this handler
receives the order, runs a fraud screen on it, then runs the saga. It is
traced the way most Lambda functions are: `capture_lambda_handler` right on
the handler function, `capture_method` on the business call.

Run `make lab-2` to see what X-Ray records in a durable function, then follow
workshop/lab-2-tracer/README.md stage by stage.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools import Tracer

from order_saga import Order, parse_order, run_saga

tracer = Tracer(service="order-saga")


@tracer.capture_method
def screen_order(order: Order) -> dict[str, Any]:
    """The fraud screen every order goes through (a stand-in for a paid risk-scoring API)."""
    score = min(99, int(order.amount) // 10 + 5 * len(order.items))
    return {"risk_score": score, "decision": "review" if score >= 80 else "accept"}


# TODO (Part 1): one `## lambda_handler` per invocation, and a suspension is not a fault: which decorator wraps which?
@durable_execution
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    # TODO (Part 2): the execution ARN on every invocation (not tracer.put_annotation in this body: README, Part 2).
    order = parse_order(event)

    # TODO (Part 3): a traced business call once per execution, not once per replay.
    screening = screen_order(order)

    outcome = run_saga(context, order)
    return {**outcome.to_dict(), "screening": screening}
