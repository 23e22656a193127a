"""The order saga in-process: the harness of the labs built on it (1 logger, 2 tracer, 3 metrics).

A lab's handler runs as the saga's durable function, with the collaborators
the saga expects around it: the inventory seeded in the fake DynamoDB, the
warehouse timeout in the fake SSM, the payment function registered with the
test runner (a chained invoke) and the warehouse function behind the fake
Lambda (an async invoke that answers the saga's callback). About a second a
run; the bench uses the same run as the in-process floor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from workshop.labs.harness.in_process import in_process, wait_until_suspended
from workshop.labs.run import ExecutionRun

SAGA_ENV = {
    "INVENTORY_TABLE": "inventory",
    "PAYMENTS_TABLE": "payments",
    "PAYMENT_FUNCTION": "payment",
    "WAREHOUSE_FUNCTION": "warehouse",
    "WAREHOUSE_TIMEOUT_PARAM": "/workshop/order-saga/warehouse-timeout-seconds",
}


def run_saga(
    handler: Callable[[Any, Any], Any],
    payload: dict[str, Any],
    env: dict[str, str | None] | None = None,
    timeout_s: float = 30.0,
    until_callback: str | None = None,
) -> ExecutionRun:
    """Run the order saga's flow with `handler` as the durable function, fakes for AWS.

    With `until_callback`, stop once the execution waits on that callback
    (the run is then RUNNING): what a still-waiting execution has emitted.
    """
    from order_saga import payment, warehouse
    from order_saga.seed import seed_inventory

    with in_process(handler, {**SAGA_ENV, **(env or {})}) as run:
        seed_inventory(SAGA_ENV["INVENTORY_TABLE"], run.fake.dynamodb)
        run.fake.ssm.parameters[SAGA_ENV["WAREHOUSE_TIMEOUT_PARAM"]] = "30"
        run.fake.lambda_.register(SAGA_ENV["WAREHOUSE_FUNCTION"], warehouse.lambda_handler)
        run.runner.register_function(SAGA_ENV["PAYMENT_FUNCTION"], payment.lambda_handler)
        arn = run.runner.run_async(input=json.dumps(payload), execution_timeout=int(timeout_s))
        if until_callback:
            run.wait_for_callback(arn, until_callback, timeout_s)
            wait_until_suspended(run.runner, arn, timeout_s)
            status, result, error = "RUNNING", None, None
        else:
            outcome = run.wait_for_result(arn, timeout_s)
            status = outcome.status.name
            result = json.loads(outcome.result) if outcome.result else None
            error = outcome.error
        lines = run.lines_since(0)
    return ExecutionRun(arn=arn, status=status, result=result, error=error, invocations=lines)
