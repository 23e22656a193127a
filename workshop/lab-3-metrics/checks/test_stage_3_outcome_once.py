"""Stage 3: outcome metrics once, when the execution finishes; none while it waits."""

from __future__ import annotations


from emf import metric_points, totals


def _outcome_like(name: str) -> bool:
    return name.startswith("Order") and name != "OrderPlaced"


def test_finished_execution_has_exactly_one_outcome_in_its_last_invocation(in_process_run):
    outcomes = [(n, name, v) for n, name, v, _ in metric_points(in_process_run) if _outcome_like(name)]
    last = len(in_process_run.invocations)
    assert outcomes == [(last, "OrderCompleted", 1.0)], (
        f"expected one OrderCompleted, in the last invocation ({last}); saw "
        + (", ".join(f"{name}={v:g} in invocation {n}" for n, name, v in outcomes) or "none")
    )


def test_waiting_execution_has_no_outcome_yet(waiting_run):
    outcomes = {name: value for name, value in totals(waiting_run).items() if _outcome_like(name)}
    assert not outcomes, (
        f"expected no outcome metric while the order waits for the warehouse; saw {outcomes} "
        "(a suspension unwinds through finally blocks)"
    )
