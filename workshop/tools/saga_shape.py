"""The order saga's replay shape, read from the explorer's grid, against the story the README tells.

Why: the README explains the compensating path's grid invocation by
invocation (the payment's result wakes invocation 2, which suspends on the
warehouse callback; the rejection wakes invocation 3, ...). `make demo` shows
those executions, so it says when one did not take that shape rather than
leave a presenter to explain a different picture; the live test
(tests/integration/test_demo_shape_live.py) holds the shape over repeated
runs on a loaded machine.

A shape is, per invocation, what woke it and what it suspended on: the
explorer grid's column heading (`woken_by`) and its cells in the "suspended on"
state, nothing computed here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workshop.explorer.grid import build_grid
from workshop.inspect import Services, fetch_history
from workshop.inspect.execution import load_timeline

# How long the host's invocation index may trail the history's last
# InvocationCompleted once the execution has ended (the host writes its entry
# as the invocation returns; normally it is already there).
INDEX_DEADLINE_S = 10.0


@dataclass(frozen=True)
class Step:
    """One invocation of the story: what wakes it, what it suspends on (nothing: it ends the execution)."""

    woken_by: str  # the start of the grid's `woken_by` text, e.g. "the callback (warehouse-confirmation)"
    suspended_on: tuple[str, ...]


# The README's "Reading the picture": four invocations, the second suspended on the callback.
COMPENSATING = (
    Step("the first start", ("charge-payment-attempt-1",)),
    Step("the chained invoke (charge-payment-attempt-1)", ("warehouse-confirmation",)),
    Step("the callback (warehouse-confirmation)", ("refund-payment-attempt-1",)),
    Step("the chained invoke (refund-payment-attempt-1)", ()),
)
# The happy path, the same up to the callback: the confirmation wakes the last invocation.
HAPPY = (
    Step("the first start", ("charge-payment-attempt-1",)),
    Step("the chained invoke (charge-payment-attempt-1)", ("warehouse-confirmation",)),
    Step("the callback (warehouse-confirmation)", ()),
)


@dataclass(frozen=True)
class Seen:
    """One invocation as the grid shows it."""

    number: int
    woken_by: str
    suspended_on: tuple[str, ...]

    def matches(self, step: Step) -> bool:
        # "…, finished while invocation 1 ran" may follow the waker: a quick result, same story.
        return self.woken_by.startswith(step.woken_by) and self.suspended_on == step.suspended_on


class ShapeUnreadable(RuntimeError):
    """The host's invocation index did not catch up with the history in time."""


def read_shape(services: Services, arn: str) -> list[Seen]:
    """The ended execution's invocations as its replay grid shows them."""
    history = fetch_history(services, arn)
    completed = sum(event.get("EventType") == "InvocationCompleted" for event in history)
    deadline = time.monotonic() + INDEX_DEADLINE_S
    while len(services.invocations(execution_arn=arn)) < completed:
        if time.monotonic() > deadline:
            raise ShapeUnreadable(
                f"the function host's invocation index listed fewer than the history's {completed} "
                f"invocations of {arn} after {INDEX_DEADLINE_S:.0f} s"
            )
        time.sleep(0.1)
    timeline, _ = load_timeline(services, arn)
    grid = build_grid(timeline, history)
    names = {row.op_id: row.name or row.op_id[:8] for row in grid.rows}
    return [
        Seen(
            number=column.number,
            woken_by=column.woken_by,
            suspended_on=tuple(
                names[row.op_id] for row in grid.rows for cell in row.cells
                if cell.invocation == column.number and cell.state == "suspended"
            ),
        )
        for column in grid.columns
    ]


def differences(seen: list[Seen], story: tuple[Step, ...]) -> list[str]:
    """What differs from the story, one line per invocation; empty when the shape is the story's."""
    lines = []
    if len(seen) != len(story):
        lines.append(f"{len(seen)} invocations, the story has {len(story)}")
    for number in range(1, max(len(seen), len(story)) + 1):
        got = seen[number - 1] if number <= len(seen) else None
        want = story[number - 1] if number <= len(story) else None
        if got is not None and want is not None and got.matches(want):
            continue
        expected = f"woken by {want.woken_by}, {_suspension(want.suspended_on)}" if want else "no such invocation"
        actual = f"woken by {got.woken_by}, {_suspension(got.suspended_on)}" if got else "missing"
        lines.append(f"invocation {number}: expected {expected}; saw {actual}")
    return lines


def _suspension(names: tuple[str, ...]) -> str:
    return f"suspended on {', '.join(names)}" if names else "ended the execution"
