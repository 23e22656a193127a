"""Lab 1 — Logger, solution: the practice of the Powertools durable-functions page.

- Stage 1: a Logger with a service name, and `inject_lambda_context` so every
  line carries the function name and request id (it sits above
  `@durable_execution`, where it sees Lambda's own context object).
- Stage 2: `context.set_logger(logger)` and only `context.logger`: the SDK
  drops records while it replays completed operations, so a line is written
  once per execution, not once per invocation.
- Stage 3: `append_keys(execution_arn=...)`, the same value in every
  invocation, so one Logs Insights query (`filter execution_arn = "..."`)
  finds the whole execution. The SDK adds `executionArn` (camelCase) to
  context.logger records; the snake_case key is what the Powertools page's
  query filters on, and it also covers lines logged outside context.logger.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_lambda_powertools import Logger

from order_saga import metrics, parse_order, run_saga

logger = Logger(service="order-saga")


@logger.inject_lambda_context
@metrics.log_metrics
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    # Plain append_keys: keys added with thread_safe_append_keys outside the
    # durable handler thread are lost.
    logger.append_keys(execution_arn=context.execution_context.durable_execution_arn)
    context.set_logger(logger)

    order = parse_order(event)
    context.logger.info("Order received", extra={"order_id": order.order_id, "items": len(order.items)})

    outcome = run_saga(context, order)

    context.logger.info("Order finished", extra={"order_id": order.order_id, "status": str(outcome.status)})
    return outcome.to_dict()
