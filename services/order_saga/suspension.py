"""Has the saga suspended on the warehouse's callback? Read from its durable history.

Why the simulated warehouse asks: a real warehouse answers minutes or days
after the hand-off, long after the saga's invocation ended waiting on the
callback. The simulated one answers within milliseconds, often while the
invocation that created the callback is still running (between the
``notify-warehouse`` step and ``callback.result()``); the SDK then finds the
answer already recorded and carries on without suspending, so the execution
has one invocation fewer than the story it illustrates (the README's replay
grid, `make demo`, the labs' timelines) and which one depends on the load of
the machine. Waiting until the history shows the suspension gives every run
the order of events a real warehouse produces.

The suspension is visible in GetDurableExecutionHistory: the callback's
``CallbackStarted`` event (matched by its callback id), then an
``InvocationCompleted``: the invocation that started the callback has ended
with the callback still open. The same reading works on AWS and on the local
stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# Events after which there is nothing left to wait for: the callback is closed,
# or the execution is over. Answering is then refused or pointless, not early.
_CALLBACK_CLOSED = frozenset({"CallbackSucceeded", "CallbackFailed", "CallbackTimedOut"})
_EXECUTION_ENDED = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionStopped"}
)

# Between two reads of the history: short first (a suspension usually follows
# within a few hundred ms), longer later so a slow saga is not flooded.
_FIRST_PAUSE_S = 0.02
_LONGEST_PAUSE_S = 0.1


def still_to_see(events: Iterable[Mapping[str, Any]], callback_id: str) -> str | None:
    """What the history does not show yet for a suspension on ``callback_id``; None once it does.

    None also when waiting is pointless: the callback is already closed or
    the execution has ended (the answer then goes out and the service says
    what it thinks of it).
    """
    started_op: str | None = None
    for event in events:
        kind = event.get("EventType")
        if kind in _EXECUTION_ENDED:
            return None
        if started_op is None:
            details = event.get("CallbackStartedDetails") or {}
            if kind == "CallbackStarted" and details.get("CallbackId") == callback_id:
                started_op = event.get("Id")
            continue
        if kind == "InvocationCompleted":
            return None
        if kind in _CALLBACK_CLOSED and event.get("Id") == started_op:
            return None
    if started_op is None:
        return "the callback's CallbackStarted event"
    return "an InvocationCompleted after the callback's CallbackStarted (the invocation ending on it)"


def read_history(lam: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of the execution, oldest first (all pages), without payloads: only the events are read."""
    events: list[dict[str, Any]] = []
    marker: dict[str, str] = {}
    while True:
        page = lam.get_durable_execution_history(
            DurableExecutionArn=execution_arn, IncludeExecutionData=False, **marker
        )
        events.extend(page.get("Events", []))
        if not page.get("NextMarker"):
            return events
        marker = {"Marker": page["NextMarker"]}


def wait_until_suspended_on(
    lam: Any,
    execution_arn: str,
    callback_id: str,
    deadline_s: float,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> str | None:
    """Read the history until the saga is suspended on the callback; None then.

    At the deadline, return what was still not seen (for the caller's log
    line): the warehouse answers anyway, since a late answer keeps the
    order's outcome right and only the replay story loses a suspension.
    """
    deadline = clock() + deadline_s
    wait_s = _FIRST_PAUSE_S
    while True:
        missing = still_to_see(read_history(lam, execution_arn), callback_id)
        if missing is None:
            return None
        left = deadline - clock()
        if left <= 0:
            return missing
        pause(min(wait_s, left))
        wait_s = min(wait_s * 2, _LONGEST_PAUSE_S)
