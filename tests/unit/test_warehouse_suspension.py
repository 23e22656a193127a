"""The simulated warehouse holds its answer until the saga's history shows it suspended on the callback.

Histories here are the event shapes GetDurableExecutionHistory returns (only
the fields read); the clock and the pause are injected, so nothing waits.
"""

from __future__ import annotations

from typing import Any

import pytest

from order_saga import settings, suspension, warehouse

CALLBACK_ID = "cb-1"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:order-saga:1/durable-execution/n/i"


def started(callback_id: str = CALLBACK_ID, op: str = "op-cb") -> dict[str, Any]:
    return {"EventType": "CallbackStarted", "Id": op, "CallbackStartedDetails": {"CallbackId": callback_id}}


def event(kind: str, op: str | None = None) -> dict[str, Any]:
    return {"EventType": kind, **({"Id": op} if op else {})}


BEFORE_CALLBACK = [event("ExecutionStarted"), event("InvocationCompleted")]
RUNNING_ON = [*BEFORE_CALLBACK, started(), event("StepStarted", "op-notify"), event("StepSucceeded", "op-notify")]


@pytest.mark.parametrize(
    ("history", "missing"),
    [
        (BEFORE_CALLBACK, "CallbackStarted"),
        ([*BEFORE_CALLBACK, started("another callback"), event("InvocationCompleted")], "CallbackStarted"),
        (RUNNING_ON, "InvocationCompleted after"),
        # The invocation that ended before the callback started does not count.
        ([event("ExecutionStarted"), event("InvocationCompleted"), started()], "InvocationCompleted after"),
    ],
    ids=["no-callback-yet", "another-callback", "invocation-still-running", "earlier-invocation"],
)
def test_not_suspended_yet_says_what_is_missing(history: list[dict[str, Any]], missing: str) -> None:
    assert missing in (suspension.still_to_see(history, CALLBACK_ID) or "")


@pytest.mark.parametrize(
    "history",
    [
        [*RUNNING_ON, event("InvocationCompleted")],
        [*RUNNING_ON, event("CallbackFailed", "op-cb")],  # already answered: nothing to wait for
        [*BEFORE_CALLBACK, event("ExecutionStopped")],  # over: nothing to wait for
    ],
    ids=["suspended", "callback-closed", "execution-ended"],
)
def test_suspended_or_nothing_left_to_wait_for(history: list[dict[str, Any]]) -> None:
    assert suspension.still_to_see(history, CALLBACK_ID) is None


class ScriptedHistory:
    """A Lambda client whose history grows by one event list per read; pages like the real one."""

    def __init__(self, reads: list[list[dict[str, Any]]]) -> None:
        self.reads = reads
        self.calls: list[dict[str, Any]] = []

    def get_durable_execution_history(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        events = self.reads[min(sum("Marker" not in c for c in self.calls), len(self.reads)) - 1]
        if "Marker" in request:
            return {"Events": events[1:]}
        return {"Events": events[:1], "NextMarker": "page-2"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_waits_until_the_invocation_ends_on_the_callback() -> None:
    lam = ScriptedHistory([RUNNING_ON, RUNNING_ON, [*RUNNING_ON, event("InvocationCompleted")]])
    clock = FakeClock()
    assert suspension.wait_until_suspended_on(lam, ARN, CALLBACK_ID, 20, clock, clock.pause) is None
    assert len(clock.pauses) == 2 and clock.pauses[0] < clock.pauses[1]  # backs off between reads
    assert {call["DurableExecutionArn"] for call in lam.calls} == {ARN}
    assert sum("Marker" in call for call in lam.calls) == 3  # every page of every read


def test_at_the_deadline_says_what_it_did_not_see() -> None:
    lam = ScriptedHistory([RUNNING_ON])
    clock = FakeClock()
    missing = suspension.wait_until_suspended_on(lam, ARN, CALLBACK_ID, 2, clock, clock.pause)
    assert missing is not None and "InvocationCompleted after" in missing
    assert clock.now == pytest.approx(2)


def test_the_wait_is_off_unless_the_function_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAREHOUSE_SUSPENSION_WAIT_SECONDS", raising=False)
    assert settings.warehouse_suspension_wait_seconds() == 0
    monkeypatch.setenv("WAREHOUSE_SUSPENSION_WAIT_SECONDS", "20")
    assert settings.warehouse_suspension_wait_seconds() == 20
    monkeypatch.setenv("WAREHOUSE_SUSPENSION_WAIT_SECONDS", "soon")
    with pytest.raises(settings.MissingSettingError, match="number of seconds"):
        settings.warehouse_suspension_wait_seconds()


def test_warehouse_answers_after_the_suspension_and_warns_when_it_never_came(
    aws: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The history read failing (a missing permission on AWS) is the same as not seeing it: answer, and say so."""
    from aws_durable_execution_sdk_python_testing.invoker import create_test_lambda_context

    monkeypatch.setenv("WAREHOUSE_SUSPENSION_WAIT_SECONDS", "1")
    waited: list[tuple[str, str]] = []

    def never(lam: Any, arn: str, callback_id: str, deadline_s: float) -> str:
        waited.append((arn, callback_id))
        return "an InvocationCompleted after the callback's CallbackStarted"

    monkeypatch.setattr(warehouse, "wait_until_suspended_on", never)
    answer = warehouse.lambda_handler(
        {"callback_id": "not-a-callback", "order_id": "o-late", "behaviour": "reject", "execution_arn": ARN},
        create_test_lambda_context(function_name="warehouse"),
    )
    assert waited == [(ARN, "not-a-callback")]
    assert answer["status"] == "IGNORED"  # it still answered (the fake runner knows no such callback)
    assert aws.lambda_.callback_answers == [("failure", "not-a-callback")]
    [warning] = [r for r in caplog.records if r.getMessage().startswith("Answering before the saga")]
    assert warning.not_seen == "an InvocationCompleted after the callback's CallbackStarted"


def test_without_the_saga_s_arn_it_answers_at_once(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hand-off from code that does not send the ARN (an older saga, a learner's copy) is not held."""
    from aws_durable_execution_sdk_python_testing.invoker import create_test_lambda_context

    monkeypatch.setenv("WAREHOUSE_SUSPENSION_WAIT_SECONDS", "1")
    monkeypatch.setattr(warehouse, "wait_until_suspended_on", lambda *_: pytest.fail("waited without an ARN"))
    warehouse.lambda_handler(
        {"callback_id": "not-a-callback", "order_id": "o-late", "behaviour": "confirm"},
        create_test_lambda_context(function_name="warehouse"),
    )
    assert aws.lambda_.callback_answers == [("success", "not-a-callback")]
