"""The durable function invoke_durable calls: two steps, its own execution.

Why it is separate: a chained durable invoke starts an execution of another
function; it is deployed beside the cases and registered with
DurableFunctionTestRunner.register_durable_function in-process.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, str]:
    picked = context.step(lambda _: f"picked {event['order']}", name="pick")
    shipped = context.step(lambda _: f"shipped {event['order']}", name="ship")
    return {"picked": picked, "shipped": shipped}
