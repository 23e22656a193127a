"""The in-process reference itself: each handler records what it is there to show.

Without this, a handler broken on both sides would give two agreeing, empty
histories. Runs in-process only (a few seconds: the callback timeouts are real time).
"""

from __future__ import annotations

import pytest

from tests.fidelity.cases import CASES, Case
from tests.fidelity.compare import joined
from tests.fidelity.in_process import run_in_process
from tests.fidelity.normalise import EXECUTION, normalise


def _is_subsequence(wanted: list[tuple[str, str]], seen: list[tuple[str, str]]) -> bool:
    remaining = iter(seen)
    return all(pair in remaining for pair in wanted)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.kind)
def test_in_process_history_shows_the_operation(case: Case) -> None:
    history = joined([normalise(events) for events in run_in_process(case)])
    execution = [event["event"] for event in history if event["op"] == EXECUTION]
    assert execution[-1] == case.ends_with, history
    seen = [(event["op"], event["event"]) for event in history]
    assert _is_subsequence(list(case.shows), seen), f"expected {case.shows} in this order, saw {seen}"
