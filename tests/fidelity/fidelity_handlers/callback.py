"""create_callback with a timeout and a heartbeat timeout, answered by the test.

Why: the execution suspends on the callback until someone outside answers it.
The test heartbeats it once (the heartbeat timeout is reset, nothing is
recorded) and then sends SendDurableExecutionCallbackSuccess; the history
must carry the configured timeouts and the result that was sent.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration

CALLBACK = "approval"
TIMEOUT_S = 30
HEARTBEAT_TIMEOUT_S = 20
# The CallbackStarted event's name -> (Timeout, HeartbeatTimeout) it must carry, for the reference (tests/fidelity/aws_expected.py).
CALLBACK_TIMEOUTS = {CALLBACK: (TIMEOUT_S, HEARTBEAT_TIMEOUT_S)}


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    config = CallbackConfig(timeout=Duration.from_seconds(TIMEOUT_S), heartbeat_timeout=Duration.from_seconds(HEARTBEAT_TIMEOUT_S))
    callback = context.create_callback(name=CALLBACK, config=config)
    return {"answer": callback.result()}
