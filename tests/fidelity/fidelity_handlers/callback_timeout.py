"""create_callback that nobody answers: its 1-second timeout fires.

Why: the timeout is the runner's own timer, not the handler's; the history
must end the callback with CallbackTimedOut and the handler must see
CallbackTimeoutError on the next invocation, as on Lambda.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import CallbackTimeoutError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration

CALLBACK = "unanswered"
TIMEOUT_S = 1
# The CallbackStarted event's name -> (Timeout, HeartbeatTimeout) it must carry; no heartbeat timeout is configured, so the SDK sends 0.
CALLBACK_TIMEOUTS = {CALLBACK: (TIMEOUT_S, 0)}


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    callback = context.create_callback(name=CALLBACK, config=CallbackConfig(timeout=Duration.from_seconds(TIMEOUT_S)))
    try:
        return {"answer": callback.result()}
    except CallbackTimeoutError as error:
        return {"timed_out": type(error).__name__}
