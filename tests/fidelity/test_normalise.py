"""The normaliser, the comparison and the AWS corrections, on real in-process histories.

Each test shows the comparison can fail: a history changed in a compared
field differs; changed only in what is set aside (ids, timestamps, callback
ids, invocation events, the order of concurrent branches) it does not.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from tests.fidelity.aws_expected import as_on_aws
from tests.fidelity.cases import CASES, Case
from tests.fidelity.compare import assert_same_history, history_diff
from tests.fidelity.in_process import run_in_process
from tests.fidelity.normalise import normalise

BY_KIND = {case.kind: case for case in CASES}


@pytest.fixture(scope="module")
def histories() -> dict[str, list[dict[str, Any]]]:
    return {kind: run_in_process(BY_KIND[kind])[0] for kind in ("step_retries", "wait_for_callback", "map_tolerance", "child_context")}


def _relabelled(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same history with other ids, later timestamps, another callback id and no invocation events."""
    ids: dict[str, str] = {}
    changed = []
    for event in copy.deepcopy(events):
        if event["EventType"] == "InvocationCompleted":
            continue
        for key in ("Id", "ParentId"):
            if key in event:
                event[key] = ids.setdefault(event[key], f"other-{len(ids)}")
        event["EventTimestamp"] = event["EventTimestamp"] + datetime.timedelta(hours=1)
        event["EventId"] += 100
        if "CallbackStartedDetails" in event:
            event["CallbackStartedDetails"]["CallbackId"] = "another-callback-id"
        changed.append(event)
    return changed


@pytest.mark.parametrize("kind", ["step_retries", "wait_for_callback", "map_tolerance"])
def test_ids_timestamps_and_invocations_are_set_aside(histories: dict[str, list[dict[str, Any]]], kind: str) -> None:
    assert normalise(_relabelled(histories[kind])) == normalise(histories[kind])


def _first(events: list[dict[str, Any]], event_type: str, name: str | None = None) -> dict[str, Any]:
    return next(e for e in events if e["EventType"] == event_type and (name is None or e.get("Name") == name))


def test_a_changed_attempt_is_a_difference_the_diff_names(histories: dict[str, list[dict[str, Any]]]) -> None:
    changed = copy.deepcopy(histories["step_retries"])
    _first(changed, "StepFailed")["StepFailedDetails"]["RetryDetails"]["CurrentAttempt"] = 7
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_same_history(normalise(histories["step_retries"]), normalise(changed))
    assert '"op": "flaky"' in str(failure.value) and '"CurrentAttempt": 7' in str(failure.value)


@pytest.mark.parametrize(
    ("event_type", "path", "value"),
    [
        ("StepSucceeded", ("StepSucceededDetails", "Result", "Payload"), '"13B"'),
        ("StepFailed", ("StepFailedDetails", "Error", "Payload", "ErrorMessage"), "another message"),
        ("ContextStarted", ("SubType",), "Parallel"),
        ("StepSucceeded", ("Name",), "renamed"),
    ],
)
def test_results_errors_subtypes_and_names_are_compared(histories: dict[str, list[dict[str, Any]]], event_type: str, path: tuple[str, ...], value: str) -> None:
    source = histories["map_tolerance"] if event_type == "StepFailed" else histories["child_context"]
    changed = copy.deepcopy(source)
    target: dict[str, Any] = _first(changed, event_type)
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert history_diff(normalise(source), normalise(changed), "a", "b")


def test_a_missing_event_is_a_difference(histories: dict[str, list[dict[str, Any]]]) -> None:
    changed = [e for e in histories["step_retries"] if not (e["EventType"] == "StepFailed" and e["StepFailedDetails"]["RetryDetails"]["CurrentAttempt"] == 2)]
    assert history_diff(normalise(histories["step_retries"]), normalise(changed), "a", "b")


def test_concurrent_branches_may_finish_in_any_order(histories: dict[str, list[dict[str, Any]]]) -> None:
    events = histories["map_tolerance"]
    iteration_ids = [e["Id"] for e in events if e["EventType"] == "ContextStarted" and e.get("SubType") == "MapIteration"]
    # the last item's events (and its step's) moved before the first item's
    last = iteration_ids[-1]
    moved = [e for e in events if last in (e.get("Id"), e.get("ParentId"))]
    rest = [e for e in events if e not in moved]
    first_item = next(i for i, e in enumerate(rest) if e.get("Id") == iteration_ids[0])
    reordered = rest[:first_item] + moved + rest[first_item:]
    assert normalise(reordered) == normalise(events)


def test_sequential_steps_keep_their_order(histories: dict[str, list[dict[str, Any]]]) -> None:
    events = histories["child_context"]
    children = [e for e in events if e.get("ParentId")]
    seat, meal = children[:2], children[2:4]
    swapped = [e for e in events if e not in children[:4]]
    at = swapped.index(_first(swapped, "ContextSucceeded"))
    swapped[at:at] = meal + seat
    assert history_diff(normalise(events), normalise(swapped), "a", "b")


def test_long_payloads_are_compared_by_digest() -> None:
    def history(payload: str) -> list[dict[str, Any]]:
        return [{"EventType": "StepSucceeded", "Id": "1", "Name": "s", "SubType": "Step", "StepSucceededDetails": {"Result": {"Payload": payload, "Truncated": False}}}]

    same, other = normalise(history("a" * 5000)), normalise(history("a" * 4999 + "b"))
    assert same == normalise(history("a" * 5000))
    assert same != other and "5000 chars" in str(same)


def test_stack_traces_are_set_aside() -> None:
    def history(trace: list[str]) -> list[dict[str, Any]]:
        error = {"ErrorType": "E", "ErrorMessage": "m", "StackTrace": trace}
        return [{"EventType": "StepFailed", "Id": "1", "Name": "s", "SubType": "Step", "StepFailedDetails": {"Error": {"Payload": error, "Truncated": False}}}]

    assert normalise(history(['File "/repo/x.py"'])) == normalise(history(['File "/tmp/code/x.py"']))


def test_as_on_aws_gives_each_step_success_its_attempt(histories: dict[str, list[dict[str, Any]]]) -> None:
    succeeded = [e["StepSucceededDetails"]["RetryDetails"] for e in as_on_aws(histories["step_retries"]) if e["EventType"] == "StepSucceeded"]
    assert succeeded == [{"CurrentAttempt": 3}]
    assert "RetryDetails" not in _first(histories["step_retries"], "StepSucceeded")["StepSucceededDetails"], "as_on_aws changed its input"


def test_as_on_aws_gives_callbacks_the_timeouts_their_handler_configured(histories: dict[str, list[dict[str, Any]]]) -> None:
    """The reference's correction the live stack's CallbackStarted fix must match; nothing configured, nothing invented."""
    source = copy.deepcopy(histories["wait_for_callback"])
    started = _first(as_on_aws(source, {"warehouse create callback id": (30, 20)}), "CallbackStarted")["CallbackStartedDetails"]
    assert (started["Timeout"], started["HeartbeatTimeout"]) == (30, 20)
    assert "Timeout" not in _first(as_on_aws(source), "CallbackStarted")["CallbackStartedDetails"]
    assert source == histories["wait_for_callback"], "as_on_aws changed its input"


def test_as_on_aws_says_a_whole_error_is_not_truncated(histories: dict[str, list[dict[str, Any]]]) -> None:
    """The reference's correction the live stack's Truncated fix must match: the error itself is kept."""
    source = copy.deepcopy(histories["map_tolerance"])
    failed = _first(as_on_aws(source), "ContextFailed")["ContextFailedDetails"]["Error"]
    assert failed["Truncated"] is False and failed["Payload"] == _first(source, "ContextFailed")["ContextFailedDetails"]["Error"]["Payload"]
    assert source == histories["map_tolerance"], "as_on_aws changed its input"


def test_an_empty_reference_is_not_agreement() -> None:
    with pytest.raises(AssertionError, match="no events"):
        assert_same_history([], [])


def test_every_case_has_its_own_handler_and_name() -> None:
    assert len({case.function_name for case in CASES}) == len(CASES)
    assert all(isinstance(case, Case) and case.shows for case in CASES)
