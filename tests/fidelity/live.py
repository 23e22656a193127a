"""A case run on the live stack: its function invoked through the host, answered, its history read back.

Everything goes through Lambda's public API at the function host, with a
boto3 client and dummy credentials, as a user's code would: Invoke (Event)
of the function's `live` alias, the callback calls, GetDurableExecution until
the execution ends, and GetDurableExecutionHistory with execution data,
every page of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.fidelity.answers import answer
from tests.fidelity.chained import Events, with_children
from tests.fidelity.cases import ALIAS, EXECUTION_TIMEOUT_S, Case
from tests.integration.polling import finished


@dataclass
class _LambdaCallbacks:
    lam: Any

    def history(self, arn: str) -> list[Mapping[str, Any]]:
        return self.lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]

    def heartbeat(self, callback_id: str) -> None:
        self.lam.send_durable_execution_callback_heartbeat(CallbackId=callback_id)

    def succeed(self, callback_id: str, result: bytes) -> None:
        self.lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=result)


def history(lam: Any, arn: str) -> Events:
    """Every event of the execution, with its inputs and results, across all pages."""
    events: Events = []
    marker: str | None = None
    while True:
        page = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True, **({"Marker": marker} if marker else {}))
        events.extend(page["Events"])
        marker = page.get("NextMarker")
        if not marker:
            return events


def start(lam: Any, case: Case) -> str:
    response = lam.invoke(FunctionName=f"{case.function_name}:{ALIAS}", InvocationType="Event", Payload=case.input.encode())
    assert response["StatusCode"] == 202, response
    return response["DurableExecutionArn"]


def run_live(lam: Any, case: Case) -> list[Events]:
    """The case's history events after its execution ended on the live stack, then those of any durable execution it chained."""
    arn = start(lam, case)
    answer(_LambdaCallbacks(lam), arn, case.answers)
    finished(lam, arn, deadline_s=EXECUTION_TIMEOUT_S)
    return with_children(history(lam, arn), lambda child: history(lam, child))
