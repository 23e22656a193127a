"""A history with the histories of the durable executions it chained, in the order it started them.

A chained invoke of a durable function starts an execution of its own; its
ARN is on the parent's ChainedInvokeStarted event (DurableExecutionArn). The
child's history is part of what the parent did, so both runners' children are
compared too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Events = list[dict[str, Any]]


def chained_arns(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """The child execution ARNs the events name, in the order the invokes started."""
    return [
        event["ChainedInvokeStartedDetails"]["DurableExecutionArn"]
        for event in events
        if event["EventType"] == "ChainedInvokeStarted" and (event.get("ChainedInvokeStartedDetails") or {}).get("DurableExecutionArn")
    ]


def with_children(events: Events, history_of: Callable[[str], Events]) -> list[Events]:
    """[the execution's events, then each chained durable child's], children of children included."""
    histories = [events]
    for arn in chained_arns(events):
        histories.extend(with_children(history_of(arn), history_of))
    return histories
