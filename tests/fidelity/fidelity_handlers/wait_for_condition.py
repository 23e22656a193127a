"""wait_for_condition polling a counter until it reaches 3, 1 s between polls.

Why: each poll is an attempt of one STEP operation (subtype WaitForCondition)
whose state is checkpointed between polls; the live runner must keep the
state and the attempts as the in-process runner does.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision

TARGET = 3


def count_up(state: int, check: WaitForConditionCheckContext) -> int:
    return state + 1


def every_second_until_target(state: int, attempts_made: int) -> WaitForConditionDecision:
    """A fixed 1 s delay (no jitter), so every run polls at the same pace."""
    if state >= TARGET:
        return WaitForConditionDecision.stop_polling()
    return WaitForConditionDecision.continue_waiting(Duration.from_seconds(1))


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, int]:
    config = WaitForConditionConfig(wait_strategy=every_second_until_target, initial_state=0)
    return {"count": context.wait_for_condition(count_up, config=config, name="counter")}
