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


def hand_off(callback_id: str, context: WaitForCallbackContext) -> None:
    """The partner is told the id and then never heard from again."""


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(30), heartbeat_timeout=Duration.from_seconds(1))
    try:
        return {"answer": context.wait_for_callback(hand_off, name=CALLBACK, config=config)}
    except CallbackTimeoutError as error:
        return {"timed_out": type(error).__name__}
