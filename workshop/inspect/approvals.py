"""The approval-wait function's requests, read from its approvals table and answered through Lambda.

Why here and not in the CLI: `workshop approvals/approve/reject` and the
explorer's Approve / Reject buttons make the same calls, and the explorer must
not import the command line. The function (services/approval_wait) records
every request it waits on: request id, the callback it waits on *now* (it
changes when the request escalates), status, amount, ...

- approve: SendDurableExecutionCallbackSuccess, Result ``{"approver", "comment"}``
- reject:  SendDurableExecutionCallbackFailure, ErrorType ``ExpenseRejected``,
  ErrorMessage the reason

The table's name comes from the function's environment in the stack's registry
(``APPROVALS_TABLE`` of ``approval-wait``), so it is never guessed. Failures the
learner can act on are an InspectError; AWS's own refusals stay botocore's.
"""

from __future__ import annotations

import json
from typing import Any

from workshop.inspect.client import InspectError, Services

FUNCTION = "approval-wait"
TABLE_VARIABLE = "APPROVALS_TABLE"
WAITING = ("PENDING", "ESCALATED")
REJECTION_TYPE = "ExpenseRejected"  # approval_wait.handler.REJECTION_TYPE


def approvals_table(services: Services) -> str:
    function = services.registry().get("functions", {}).get(FUNCTION)
    if not function:
        raise InspectError(f"The stack has no {FUNCTION} function: re-provision it with `make up` (infra/template.yaml declares it).")
    table = (function.get("environment") or {}).get(TABLE_VARIABLE)
    if not table:
        raise InspectError(f"{FUNCTION} has no {TABLE_VARIABLE} in its environment: check infra/template.yaml.")
    return table


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {key: next(iter(cell.values())) for key, cell in item.items()}


def list_requests(services: Services, include_decided: bool = False) -> list[dict[str, Any]]:
    """Every request in the table (the waiting ones unless ``include_decided``), oldest first."""
    table = approvals_table(services)
    rows: list[dict[str, Any]] = []
    paginator = services.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=table, ConsistentRead=True):
        rows.extend(_plain(item) for item in page.get("Items", []))
    if not include_decided:
        rows = [row for row in rows if row.get("status") in WAITING]
    return sorted(rows, key=lambda row: (row.get("created_at", ""), row.get("request_id", "")))


def get_request(services: Services, request_id: str) -> dict[str, Any]:
    """One request that still waits for an answer (InspectError when unknown, decided or without a callback)."""
    table = approvals_table(services)
    item = services.client("dynamodb").get_item(TableName=table, Key={"request_id": {"S": request_id}}, ConsistentRead=True).get("Item")
    if not item:
        raise InspectError(f"No approval request {request_id!r}. `workshop approvals` lists the requests that wait for an answer.")
    request = _plain(item)
    if request.get("status") not in WAITING:
        raise InspectError(f"Approval request {request_id!r} is already decided: {request.get('status')} ({request.get('decided_reason', 'no reason recorded')}).")
    if not request.get("callback_id"):
        raise InspectError(f"Approval request {request_id!r} has no callback id recorded.")
    return request


def approve(services: Services, request_id: str, approver: str, comment: str | None = None) -> dict[str, Any]:
    """Callback success on the callback the request waits on now; returns the request as it was."""
    request = get_request(services, request_id)
    answer = {"approver": approver, "comment": comment}
    services.client("lambda").send_durable_execution_callback_success(CallbackId=request["callback_id"], Result=json.dumps(answer).encode())
    return request


def reject(services: Services, request_id: str, reason: str) -> dict[str, Any]:
    """Callback failure (ExpenseRejected, the reason as message); returns the request as it was."""
    request = get_request(services, request_id)
    services.client("lambda").send_durable_execution_callback_failure(
        CallbackId=request["callback_id"], Error={"ErrorType": REJECTION_TYPE, "ErrorMessage": reason}
    )
    return request
