"""A durable function of your own: record a request, wait for a person's answer, say what was decided.

Why a callback: the execution suspends while it waits (no compute is billed and
no worker is held), for minutes or days, and resumes where it left off when
someone calls SendDurableExecutionCallbackSuccess (or Failure) with the id it
logged. Every step before the wait is replayed from its checkpoint, not run again.

Why a Powertools Logger behind ``context.logger``: left alone, the SDK's
``context.logger`` writes to Python's root logger, whose level is WARNING on
Lambda as in the local function host (Lambda's runtime changes it only to the
application log level of a LoggingConfig with LogFormat JSON, which this
template does not have), so an ``info`` line is dropped. After
``context.set_logger(logger)`` it goes to this Logger: INFO unless
POWERTOOLS_LOG_LEVEL says otherwise, one JSON line with the extra keys and the
SDK's executionArn, and still skipped while the SDK replays. On AWS, Powertools
comes from src/requirements.txt (``sam build``) or its public layer; the local
function host has it installed.
"""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_lambda_powertools import Logger

logger = Logger()  # service: POWERTOOLS_SERVICE_NAME from the template


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)
    request = context.step(
        lambda _: {"request_id": str(event["request_id"]), "amount": float(event.get("amount", 0))},
        name="record-request",
    )
    callback = context.create_callback(name="await-answer", config=CallbackConfig(timeout=Duration.from_minutes(30)))
    context.logger.info("waiting for an answer", extra={"callback_id": callback.callback_id, **request})
    answer = json.loads(callback.result() or "{}")  # the raw payload the answer was sent with
    return {**request, "approved": bool(answer.get("approved")), "by": answer.get("by")}
