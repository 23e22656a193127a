"""A durable function of your own: record a request, wait for a person's answer, say what was decided.

Why a callback: the execution suspends while it waits (no compute is billed and
no worker is held), for minutes or days, and resumes where it left off when
someone calls SendDurableExecutionCallbackSuccess (or Failure) with the id it
logged. Every step before the wait is replayed from its checkpoint, not run again.
"""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    request = context.step(
        lambda _: {"request_id": str(event["request_id"]), "amount": float(event.get("amount", 0))},
        name="record-request",
    )
    callback = context.create_callback(name="await-answer", config=CallbackConfig(timeout=Duration.from_minutes(30)))
    context.logger.info("waiting for an answer", extra={"callback_id": callback.callback_id, **request})
    answer = json.loads(callback.result() or "{}")  # the raw payload the answer was sent with
    return {**request, "approved": bool(answer.get("approved")), "by": answer.get("by")}
