"""wait_for_callback: a submitter step hands the callback id off, the test answers.

Why: wait_for_callback is a child context (subtype WaitForCallback) holding
the callback and the submitter step; the test heartbeats and then succeeds
the callback, and both runners must record the same three operations.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.types import WaitForCallbackContext

CALLBACK = "warehouse"
TIMEOUT_S = 30
HEARTBEAT_TIMEOUT_S = 20
# The CallbackStarted event's name (the SDK names wait_for_callback's callback so) -> (Timeout, HeartbeatTimeout) it must carry.
CALLBACK_TIMEOUTS = {f"{CALLBACK} create callback id": (TIMEOUT_S, HEARTBEAT_TIMEOUT_S)}


def hand_off(callback_id: str, context: WaitForCallbackContext) -> None:
    """Where a real function would send the id to a partner (a queue, an email)."""
    context.logger.info("callback handed off")


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(TIMEOUT_S), heartbeat_timeout=Duration.from_seconds(HEARTBEAT_TIMEOUT_S))
    return {"answer": context.wait_for_callback(hand_off, name=CALLBACK, config=config)}
