"""The plain Lambda function the invoke kind calls: it doubles a number.

Why it is separate: it is a function of its own, deployed beside the durable
ones and registered with DurableFunctionTestRunner.register_function in-process.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return {"n": event["n"], "doubled": event["n"] * 2}
