"""Stage 2: no duplicates across replays (context.set_logger + context.logger)."""

from __future__ import annotations

from collections import Counter

import pytest

from helpers import BUSINESS_MESSAGES, business_records


def _check_once(run) -> None:
    invocations = len(run.invocations)
    assert invocations >= 3, f"the lab's order should take at least 3 invocations; this one took {invocations}"
    counts = Counter(record["message"] for _, record in business_records(run))
    for message in BUSINESS_MESSAGES:
        assert counts[message] == 1, (
            f"expected {message!r} exactly once in an execution of {invocations} invocations; "
            f"saw it {counts[message]} times" + (" — once per invocation: the handler body re-runs on every replay" if counts[message] > 1 else "")
        )


def test_each_business_message_once_in_process(in_process_run):
    _check_once(in_process_run)


@pytest.mark.live
def test_each_business_message_once_on_the_stack(live_run):
    assert live_run.status == "SUCCEEDED", f"the live execution ended {live_run.status}: {live_run.error}"
    _check_once(live_run)
