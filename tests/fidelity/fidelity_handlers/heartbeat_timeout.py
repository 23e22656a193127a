"""wait_for_callback whose submitter never heartbeats: the 1-second heartbeat timeout fires.

Why: a heartbeat timeout is separate from the overall timeout (30 s here);
the runner must time the callback out on the heartbeat, and the history must
say so the same way in-process and live.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import CallbackTimeoutError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.types import WaitForCallbackContext

CALLBACK = "silent-partner"
TIMEOUT_S = 30
HEARTBEAT_TIMEOUT_S = 1
# The CallbackStarted event's name (the SDK names wait_for_callback's callback so) -> (Timeout, HeartbeatTimeout) it must carry.
CALLBACK_TIMEOUTS = {f"{CALLBACK} create callback id": (TIMEOUT_S, HEARTBEAT_TIMEOUT_S)}


def hand_off(callback_id: str, context: WaitForCallbackContext) -> None:
    """The partner is told the id and then never heard from again."""


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(TIMEOUT_S), heartbeat_timeout=Duration.from_seconds(HEARTBEAT_TIMEOUT_S))
    try:
        return {"answer": context.wait_for_callback(hand_off, name=CALLBACK, config=config)}
    except CallbackTimeoutError as error:
        return {"timed_out": type(error).__name__}
