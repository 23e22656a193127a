"""Answering a durable callback, and which executions may be waiting on one.

Why here: `workshop callback succeed|fail|heartbeat|pending` and the
explorer's callbacks page make the same AWS calls
(SendDurableExecutionCallbackSuccess / Failure / Heartbeat and
ListDurableExecutionsByFunction), and the explorer must not import the command
line. The result is checked as JSON before anything is sent, so a typo never
reaches AWS; AWS's own refusals (a callback that no longer waits) stay botocore's.
"""

from __future__ import annotations

import json
from typing import Any

from workshop.inspect.client import InspectError, Services


def succeed(services: Services, callback_id: str, result: str | None) -> None:
    request: dict[str, Any] = {"CallbackId": callback_id}
    if result is not None:
        try:
            json.loads(result)
        except ValueError as exc:
            raise InspectError(f"The result is not valid JSON ({exc}); nothing was sent.", code=2) from exc
        request["Result"] = result.encode()
    services.client("lambda").send_durable_execution_callback_success(**request)


def fail(services: Services, callback_id: str, error_type: str | None, error_message: str | None) -> None:
    error = {k: v for k, v in (("ErrorType", error_type), ("ErrorMessage", error_message)) if v is not None}
    services.client("lambda").send_durable_execution_callback_failure(CallbackId=callback_id, Error=error)


def heartbeat(services: Services, callback_id: str) -> None:
    services.client("lambda").send_durable_execution_callback_heartbeat(CallbackId=callback_id)


def running_executions(services: Services) -> list[str]:
    """The ARNs of every RUNNING execution of every durable function in the registry."""
    arns: list[str] = []
    paginator = services.client("lambda").get_paginator("list_durable_executions_by_function")
    for name in services.durable_functions():
        for page in paginator.paginate(FunctionName=name, Statuses=["RUNNING"]):
            arns.extend(row["DurableExecutionArn"] for row in page.get("DurableExecutions", []))
    return arns
