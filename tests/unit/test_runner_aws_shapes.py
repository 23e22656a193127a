"""workshop.runner.aws_shapes: histories and ARNs as AWS gives them, on the runner's own executor, in-process.

The runner's in-process DurableFunctionTestRunner shares the Executor, the
Execution and the history code with dex-local-runner, so a handler whose step
succeeds on its third attempt, and one whose callbacks fail and time out,
show the fixes without a stack: the patches are installed for one test and
undone after it (they are process-wide).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aws_durable_execution_sdk_python import CallbackError, CallbackTimeoutError, DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration, StepConfig, WaitForCallbackConfig
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from tests.handlers.retried_step import RETRY, flaky
from workshop.inspect.shapes import all_problems
from workshop.runner.aws_shapes import ShapesUnsupported, execution_arn, install_aws_shapes, split_execution_arn

@durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, int]:
    first = context.step(lambda _: 1, name="first-try")
    return {"first": first, "flaky": context.step(flaky, name="flaky", config=StepConfig(retry_strategy=RETRY))}


# (timeout, heartbeat timeout) of each callback below, as the SDK checkpoints them in CallbackOptions.
APPROVAL = (30, 20)
PARTNER = (30, 1)  # its heartbeat timeout fires: CallbackTimedOut, then its wait_for_callback context's ContextFailed


@durable_execution
def callbacks(event: Any, context: DurableContext) -> dict[str, str]:
    """One callback answered with a failure (CallbackFailed), one never heartbeated (CallbackTimedOut, ContextFailed)."""
    timeout, heartbeat = APPROVAL
    approval = context.create_callback(name="approval", config=CallbackConfig(timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat)))
    outcome = {}
    try:
        approval.result()
    except CallbackError as error:
        outcome["approval"] = type(error).__name__
    timeout, heartbeat = PARTNER
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat))
    try:
        context.wait_for_callback(lambda callback_id, _: None, name="partner", config=config)
    except CallbackTimeoutError as error:
        outcome["partner"] = type(error).__name__
    return outcome


def wire(reply: Any) -> Any:
    """The reply as the runner's web layer sends it: timestamps as epoch seconds."""
    return json.loads(json.dumps(reply, default=lambda value: value.timestamp() if isinstance(value, datetime) else str(value)))


@pytest.fixture
def runner() -> Iterator[DurableFunctionTestRunner]:
    with DurableFunctionTestRunner(handler=handler, poll_interval=0.05, region="eu-west-1") as started:
        undo = install_aws_shapes(started)
        try:
            yield started
        finally:
            undo()


@pytest.fixture
def callback_runner() -> Iterator[DurableFunctionTestRunner]:
    with DurableFunctionTestRunner(handler=callbacks, poll_interval=0.05) as started:
        undo = install_aws_shapes(started)
        try:
            yield started
        finally:
            undo()


def run_callbacks(runner: DurableFunctionTestRunner) -> str:
    """The callbacks handler run to its end: the approval rejected by the test, the partner left to time out."""
    arn = runner.run_async(input="{}", function_name="test-function", execution_timeout=30)
    callback_id = runner.wait_for_callback(arn, name="approval", timeout=30)
    runner.send_callback_failure(callback_id, ErrorObject(message="not approved", type="Rejected", data=None, stack_trace=None))
    result = runner.wait_for_result(arn, timeout=30)
    assert result.status is InvocationStatus.SUCCEEDED, result.error
    return arn


def history_of(runner: DurableFunctionTestRunner, arn: str, include_execution_data: bool) -> dict[str, Any]:
    return wire(runner._executor.get_execution_history(arn, include_execution_data=include_execution_data).to_dict())


def run(runner: DurableFunctionTestRunner) -> tuple[str, dict[str, Any]]:
    arn = runner.run_async(input="{}", function_name="test-function", execution_timeout=30)
    result = runner.wait_for_result(arn, timeout=30)
    assert result.status is InvocationStatus.SUCCEEDED, result.error
    history = runner._executor.get_execution_history(arn, include_execution_data=True).to_dict()
    return arn, wire(history)


def test_step_attempts_and_invocation_details_as_on_aws(runner: DurableFunctionTestRunner) -> None:
    _, history = run(runner)
    steps = [(e["Name"], e["EventType"], (e.get("StepSucceededDetails") or e.get("StepFailedDetails") or {}).get("RetryDetails", {}).get("CurrentAttempt"))
             for e in history["Events"] if e["EventType"] in ("StepSucceeded", "StepFailed")]  # fmt: skip
    assert steps == [("first-try", "StepSucceeded", 1), ("flaky", "StepFailed", 1), ("flaky", "StepFailed", 2), ("flaky", "StepSucceeded", 3)]
    completed = [e for e in history["Events"] if e["EventType"] == "InvocationCompleted"]
    assert len(completed) == 3 and all(e["InvocationCompletedDetails"]["RequestId"] for e in completed), completed
    assert all_problems("GetDurableExecutionHistory", history) == []


def test_the_execution_arn_is_in_the_api_references_form(runner: DurableFunctionTestRunner) -> None:
    arn, history = run(runner)
    parts = split_execution_arn(arn)
    assert parts is not None, arn
    assert (parts["region"], parts["account"], parts["function"], parts["version"]) == ("eu-west-1", "123456789012", "test-function", "$LATEST")
    started = history["Events"][0]
    assert started["EventType"] == "ExecutionStarted" and started["Id"] == parts["id"]  # the id the SDK reads from the ARN
    detail = runner._executor.get_execution_details(arn)
    assert detail.durable_execution_name == parts["name"]


def test_callback_started_carries_the_timeouts_its_checkpoint_sent(callback_runner: DurableFunctionTestRunner) -> None:
    """AWS's CallbackStartedDetails has Timeout and HeartbeatTimeout; the runner left them out (fix 4).

    They are configuration, not execution data, so a history without data has them too.
    """
    arn = run_callbacks(callback_runner)
    for include in (True, False):
        history = history_of(callback_runner, arn, include)
        started = [(e["Name"], e["CallbackStartedDetails"].get("Timeout"), e["CallbackStartedDetails"].get("HeartbeatTimeout"))
                   for e in history["Events"] if e["EventType"] == "CallbackStarted"]  # fmt: skip
        assert started == [("approval", *APPROVAL), ("partner create callback id", *PARTNER)], (include, started)
        assert all_problems("GetDurableExecutionHistory", history) == []


def test_an_error_is_truncated_only_when_execution_data_is_left_out(callback_runner: DurableFunctionTestRunner) -> None:
    """With IncludeExecutionData the whole error is returned, so Truncated is false; the runner said true (fix 5)."""
    arn = run_callbacks(callback_runner)
    kinds = ("CallbackFailed", "CallbackTimedOut", "ContextFailed")
    for include in (True, False):
        history = history_of(callback_runner, arn, include)
        errors = {e["EventType"]: e[f"{e['EventType']}Details"]["Error"] for e in history["Events"] if e["EventType"] in kinds}
        assert sorted(errors) == sorted(kinds), history["Events"]
        assert {kind: error["Truncated"] for kind, error in errors.items()} == dict.fromkeys(kinds, not include)
        assert errors["CallbackFailed"]["Payload"]["ErrorMessage"] == "not approved"
        assert all(error["Payload"]["ErrorType"] for error in errors.values()), errors
        assert all_problems("GetDurableExecutionHistory", history) == []


def test_undo_restores_the_runner() -> None:
    with DurableFunctionTestRunner(handler=handler, poll_interval=0.05) as plain:
        install_aws_shapes(plain)()
        arn = plain.run_async(input="{}", function_name="test-function", execution_timeout=30)
        assert split_execution_arn(arn) is None  # the runner's own uuid/uuid again
        plain.wait_for_result(arn, timeout=30)


def test_an_arn_names_the_bare_function_and_round_trips() -> None:
    for name in ("payment", "payment:live", "arn:aws:lambda:us-east-1:000000000000:function:payment:3"):
        arn = execution_arn("us-east-1", None, name, "1", "run-1", "0f0e")
        assert split_execution_arn(arn) == {"region": "us-east-1", "account": "000000000000", "function": "payment", "version": "1", "name": "run-1", "id": "0f0e"}
    assert split_execution_arn("9c31db14-ca50-4e46-b7ef-3d681a7d9ce8/f6150a62-350f-4df2-9224-a0ddcecc682f") is None


def test_a_runner_without_the_internals_fails_clearly() -> None:
    with pytest.raises(ShapesUnsupported, match=r"Executor\._region is missing.*update workshop/runner/aws_shapes.py"):
        install_aws_shapes(SimpleNamespace(_executor=SimpleNamespace()))


@pytest.mark.parametrize("name", ["create_callback_event_started", "create_callback_event_timed_out"])
def test_a_runner_without_a_history_builder_fails_clearly(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A runner version without a builder fixes 4 and 5 replace is refused, not served with the gap back."""
    from aws_durable_execution_sdk_python_testing import model

    monkeypatch.delattr(model.Event, name)
    with pytest.raises(ShapesUnsupported, match=rf"Event\.{name} is missing"):
        install_aws_shapes(SimpleNamespace(_executor=SimpleNamespace(_region="eu-west-1")))
