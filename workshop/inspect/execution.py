"""Durable executions read back from the stack: listed, one's timeline, and the callbacks they wait on.

Why in workshop.inspect: `workshop timeline` and `workshop callback pending`
show these, and so do the demo and the lab runner after a live run
(through workshop.render.console), and the explorer's pages (workshop.explorer);
`workshop list` and the explorer's executions page list executions alike. The
reading is the same for all of them,
only the drawing is theirs. Failures are an InspectError or botocore's errors,
reported by whoever draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import EndpointConnectionError

from workshop.inspect.client import Services, fetch_history, invocation_logs, not_running_message, split_qualifier
from workshop.inspect.events import epoch_seconds
from workshop.inspect.timeline import Timeline, build_timeline


def load_timeline(services: Services, arn: str) -> tuple[Timeline, str | None]:
    """The execution's timeline (history, invocation index, log lines) and the function its invocations ran."""
    history = fetch_history(services, arn)
    entries = services.invocations(execution_arn=arn)
    try:
        logs, problems = invocation_logs(services, entries)
    except EndpointConnectionError as exc:
        logs, problems = {}, [not_running_message(services.config, exc.kwargs.get("endpoint_url", "")) + " (log lines left out)"]
    timeline = build_timeline(history, entries, logs, execution_arn=arn)
    timeline.notes.extend(problems)
    function = entries[0].get("function") if entries else None
    return timeline, function


def pending_callbacks(services: Services, arns: Sequence[str]) -> list[dict[str, Any]]:
    """Callbacks started and not answered, from each execution's history."""
    rows: list[dict[str, Any]] = []
    for arn in arns:
        history = fetch_history(services, arn)
        timeline = build_timeline(history, [], {}, execution_arn=arn)
        names = {e.get("Id"): e.get("Name") for e in history if e.get("Id")}
        subtypes = {e.get("Id"): e.get("SubType") for e in history if e.get("Id")}
        for op in timeline.pending:
            if op.kind != "Callback" or not op.callback_id:
                continue
            label = op.name or op.id[:12]
            if op.parent_id and subtypes.get(op.parent_id) == "WaitForCallback":
                label = f"{names.get(op.parent_id)} (wait_for_callback)"
            started = next(
                (epoch_seconds(e.get("EventTimestamp")) for e in history if e.get("Id") == op.id and e.get("EventType") == "CallbackStarted"),
                None,
            )
            rows.append(
                {
                    "execution": timeline.execution_name or arn,
                    "execution_arn": arn,
                    "operation": label,
                    "since": started,
                    "callback_id": op.callback_id,
                }
            )
    return rows


def list_executions(services: Services, functions: Sequence[str] | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """ListDurableExecutionsByFunction for these functions (default: every durable one), oldest first.

    Each row is AWS's, plus ``_function``: the name it was listed under. A
    name may carry a qualifier (``order-saga:live``), which the list filters by.
    """
    rows: list[dict[str, Any]] = []
    paginator = services.client("lambda").get_paginator("list_durable_executions_by_function")
    for function in functions if functions is not None else services.durable_functions():
        name, qualifier = split_qualifier(function)
        request: dict[str, Any] = {"FunctionName": name}
        if qualifier:
            request["Qualifier"] = qualifier
        if status:
            request["Statuses"] = [status]
        for page in paginator.paginate(**request):
            rows.extend({**row, "_function": name} for row in page.get("DurableExecutions", []))
    rows.sort(key=lambda r: epoch_seconds(r.get("StartTimestamp")) or 0.0)
    return rows
