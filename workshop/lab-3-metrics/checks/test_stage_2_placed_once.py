"""Stage 2: OrderPlaced is counted once per execution, not once per invocation."""

from __future__ import annotations


import pytest

from emf import totals


def _check(run) -> None:
    invocations = len(run.invocations)
    assert invocations >= 3, f"the lab's order should take at least 3 invocations; this one took {invocations}"
    placed = totals(run)["OrderPlaced"]
    assert placed == 1, (
        f"expected OrderPlaced = 1 for one order; saw {placed:g} in an execution of {invocations} invocations"
        + (" — the handler body adds it again on every replay" if placed > 1 else "")
    )


def test_order_placed_once_in_process(in_process_run):
    _check(in_process_run)


@pytest.mark.live
def test_order_placed_once_on_the_stack(live_run):
    assert live_run.status == "SUCCEEDED", f"the live execution ended {live_run.status}: {live_run.error}"
    _check(live_run)
