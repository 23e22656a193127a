"""run_in_child_context grouping two steps, then a step after it.

Why: a child context is a CONTEXT operation (subtype RunInChildContext)
whose children carry it as their parent; its result is checkpointed, so a
replay returns it without running the children again.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution


def reserve(child: DurableContext) -> dict[str, str]:
    seat = child.step(lambda _: "12A", name="pick-seat")
    meal = child.step(lambda _: "vegetarian", name="pick-meal")
    return {"seat": seat, "meal": meal}


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    booking = context.run_in_child_context(reserve, name="reserve")
    confirmation = context.step(lambda _: f"{booking['seat']}/{booking['meal']}", name="confirm")
    return {"booking": booking, "confirmation": confirmation}
