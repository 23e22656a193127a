"""Lab 2 — Tracer, solution: the practice of the Powertools durable-functions page.

- Stage 1: `@tracer.capture_lambda_handler` sits ABOVE `@durable_execution`.
  There it wraps one whole invocation on Lambda's own thread: one
  `## lambda_handler` subsegment per invocation, and a suspension is what it
  is, a normal return of `{"Status": "PENDING"}`. Below `@durable_execution`
  it would wrap the handler body, which the SDK suspends by raising an
  exception through it: every suspended invocation would be recorded as a
  fault (SuspendExecution).
- Stage 2: `@annotate_execution` (from order_saga; the decorator is services/_shared/observability.py)
  sits between the two. It runs on Lambda's thread inside `## lambda_handler`
  and reads the execution ARN from the durable invocation envelope, so every
  invocation of one execution carries the same `execution_arn` annotation and
  one X-Ray query (`annotation.execution_arn = "..."`) finds them all.
  `tracer.put_annotation` inside the handler body would fail the execution:
  the SDK runs the body on a worker thread whose X-Ray context holds only
  Lambda's facade segment, which cannot be annotated
  (FacadeSegmentMutationException).
- Stage 3: the fraud screen runs inside a step. A completed step is never run
  again (replays return its checkpointed result), so `## handler.screen_order`
  is recorded once per execution, in the invocation that really called it.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_lambda_powertools import Tracer

from order_saga import Order, annotate_execution, parse_order, run_saga

tracer = Tracer(service="order-saga")


@tracer.capture_method
def screen_order(order: Order) -> dict[str, Any]:
    """The fraud screen every order goes through (a stand-in for a paid risk-scoring API)."""
    score = min(99, int(order.amount) // 10 + 5 * len(order.items))
    return {"risk_score": score, "decision": "review" if score >= 80 else "accept"}


@tracer.capture_lambda_handler
@annotate_execution
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    order = parse_order(event)

    def screen(step: StepContext) -> dict[str, Any]:
        return screen_order(order)

    # Once per execution: replays get the checkpointed result without calling screen_order.
    screening = context.step(screen, name="screen-order")

    outcome = run_saga(context, order)
    return {**outcome.to_dict(), "screening": screening}
