"""The per-function time scale: a scaled function's timers fire sooner, every other function's keep their time.

A real WebRunner (started, never serving, nothing invoked) with a fake clock
(a fixed "now" the test moves) and a Scheduler whose call_later only records
the delay it is given: the test reads the delays the Executor arms and calls
its fire path itself, so nothing depends on the wall clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aws_durable_execution_sdk_python.lambda_service import (
    CallbackOptions,
    Operation,
    OperationStatus,
    OperationType,
    StepDetails,
    WaitDetails,
)
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput
from aws_durable_execution_sdk_python_testing.runner import WebRunner, WebRunnerConfig
from aws_durable_execution_sdk_python_testing.stores.base import StoreType
from aws_durable_execution_sdk_python_testing.web.server import WebServiceConfig

from workshop.runner import function_configs
from workshop.runner import function_scale as fs
from workshop.runner import timescale
from workshop.runner.internals import check_internals as recovery_check

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SCALE = 100


class FakeClock:
    """The runner's Clock with a "now" the test sets."""

    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t

    def arm(self, wake: datetime) -> float:
        return max((wake - self.t).total_seconds(), 0.0)


class Delays:
    """A Scheduler.call_later that records each delay and never runs anything."""

    def __init__(self, original: Any) -> None:
        self.seen: list[float] = []
        self._original = original

    def __call__(self, func: Any, delay: float = 0, count: int | None = 1, completion_event: Any = None) -> Any:
        self.seen.append(delay)
        return self._original(lambda: None, delay=0)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[WebRunner]:
    config = WebRunnerConfig(
        web_service=WebServiceConfig(host="127.0.0.1", port=0),
        lambda_endpoint="http://127.0.0.1:9",
        local_runner_region="us-east-1",
        store_type=StoreType.SQLITE,
        store_path=str(tmp_path / "executions.db"),
    )
    with WebRunner(config) as started:
        yield started


def scaled_runner(runner: WebRunner, tmp_path: Path) -> tuple[FakeClock, Delays]:
    """The runner with a fake clock and a recording call_later, then the per-function scale from a configs file."""
    registry = {"functions": {
        "lab-fn": {"durable": {"ExecutionTimeout": 60}, "time_scale": SCALE},
        "lab-approval": {"durable": {"ExecutionTimeout": 60}, "time_scale": SCALE, "time_scale_callback_timeouts": True},
        "other": {"durable": {"ExecutionTimeout": 60}},
    }}  # fmt: skip
    path = function_configs.write(tmp_path, registry)
    clock, delays = FakeClock(), Delays(runner._scheduler.call_later)
    runner._executor._clock = clock
    runner._scheduler.call_later = delays
    assert fs.install_function_scale(runner, path) is not None
    return clock, delays


def stored(runner: WebRunner, function: str, *operations: Operation) -> str:
    """An execution of `function` in the runner's store with these operations: its ARN."""
    start = StartDurableExecutionInput(
        account_id="000000000000", function_name=function, function_qualifier="$LATEST", execution_name=f"{function}-run",
        execution_timeout_seconds=60, execution_retention_period_days=1, invocation_id=f"{function}-inv",
    )  # fmt: skip
    execution = Execution.new(start)
    execution.start(now=T0)
    execution.operations.extend(operations)
    runner._store.save(execution)
    return execution.durable_execution_arn


def backoff(seconds: float) -> Operation:
    return Operation(
        operation_id="wait-1", operation_type=OperationType.WAIT, status=OperationStatus.STARTED, name="backoff",
        start_timestamp=T0, wait_details=WaitDetails(scheduled_end_timestamp=T0 + timedelta(seconds=seconds)),
    )  # fmt: skip


def retry(seconds: float) -> Operation:
    return Operation(
        operation_id="step-1", operation_type=OperationType.STEP, status=OperationStatus.PENDING, name="charge",
        start_timestamp=T0, step_details=StepDetails(attempt=1, next_attempt_timestamp=T0 + timedelta(seconds=seconds)),
    )  # fmt: skip


def operation(runner: WebRunner, arn: str, operation_id: str) -> Operation:
    return next(op for op in runner._store.load(arn).operations if op.operation_id == operation_id)


def test_the_configs_entry_carries_the_scale_and_the_runners_parser_still_reads_it(tmp_path: Path) -> None:
    path = function_configs.write(tmp_path, {"functions": {
        "lab": {"durable": {"ExecutionTimeout": 60}, "time_scale": 20, "time_scale_callback_timeouts": True},
        "demo": {"durable": {"ExecutionTimeout": 60}},
    }})  # fmt: skip
    entries = json.loads(path.read_text())
    assert entries["lab"] == {"DurableConfig": {"ExecutionTimeout": 60}, fs.CONFIG_KEY: 20.0, fs.CALLBACKS_KEY: True}
    assert entries["demo"] == {"DurableConfig": {"ExecutionTimeout": 60}}
    assert function_configs.watched(path).by_name["lab"].is_durable  # the runner ignores our keys
    scale_of = fs.followed_scales(path)
    assert scale_of("lab") == fs.FunctionScale(20.0, True) and scale_of("demo") == fs.REAL_TIME


def test_a_scaled_functions_wait_is_armed_sooner_and_completes_when_it_fires(runner: WebRunner, tmp_path: Path) -> None:
    clock, delays = scaled_runner(runner, tmp_path)
    lab = stored(runner, "lab-fn", backoff(100))
    runner._executor._schedule_earliest_pending(lab)
    assert delays.seen == [pytest.approx(100 / SCALE)]

    clock.t = T0 + timedelta(seconds=100 / SCALE)  # the scaled timer fires
    assert runner._executor._fire_due_operations(lab) is True
    wait = operation(runner, lab, "wait-1")
    assert wait.status is OperationStatus.SUCCEEDED
    # The clock is not scaled: the wait ends when it fired, before its (unchanged) scheduled end.
    assert wait.end_timestamp == clock.t
    assert wait.wait_details is not None and wait.wait_details.scheduled_end_timestamp == T0 + timedelta(seconds=100)


def test_a_scaled_functions_retry_back_off_is_ready_when_it_fires(runner: WebRunner, tmp_path: Path) -> None:
    clock, delays = scaled_runner(runner, tmp_path)
    lab = stored(runner, "lab-fn", retry(50))
    runner._executor._schedule_earliest_pending(lab)
    assert delays.seen == [pytest.approx(50 / SCALE)]
    clock.t = T0 + timedelta(seconds=50 / SCALE)
    assert runner._executor._fire_due_operations(lab) is True
    assert operation(runner, lab, "step-1").status is OperationStatus.READY


def test_any_other_function_keeps_its_time(runner: WebRunner, tmp_path: Path) -> None:
    clock, delays = scaled_runner(runner, tmp_path)
    other = stored(runner, "other", backoff(100))
    runner._executor._schedule_earliest_pending(other)
    assert delays.seen == [pytest.approx(100)]
    clock.t = T0 + timedelta(seconds=100 / SCALE)
    assert runner._executor._fire_due_operations(other) is False  # not due by its own clock
    assert operation(runner, other, "wait-1").status is OperationStatus.STARTED


def test_a_stale_timer_completes_nothing_early(runner: WebRunner, tmp_path: Path) -> None:
    clock, _ = scaled_runner(runner, tmp_path)
    lab = stored(runner, "lab-fn", backoff(100))
    runner._executor._schedule_earliest_pending(lab)
    clock.t = T0 + timedelta(seconds=0.5 * 100 / SCALE)  # fired before its scaled moment: not the armed wake-up
    assert runner._executor._fire_due_operations(lab) is False
    assert operation(runner, lab, "wait-1").status is OperationStatus.STARTED


def test_callback_timeouts_are_scaled_only_when_the_function_says_so(runner: WebRunner, tmp_path: Path) -> None:
    _, delays = scaled_runner(runner, tmp_path)
    options = CallbackOptions(timeout_seconds=100, heartbeat_timeout_seconds=40)
    approval = stored(runner, "lab-approval")
    saga = stored(runner, "lab-fn")
    other = stored(runner, "other")
    runner._executor._schedule_callback_timeouts(approval, options, "cb-approval")
    assert delays.seen == [pytest.approx(100 / SCALE), pytest.approx(40 / SCALE)]
    delays.seen.clear()
    runner._executor._schedule_callback_timeouts(saga, options, "cb-saga")  # a warehouse answers in real time
    runner._executor._schedule_callback_timeouts(other, options, "cb-other")
    assert delays.seen == [100, 40, 100, 40]


def test_it_composes_with_the_global_scale_and_recovery_still_finds_its_internals(runner: WebRunner, tmp_path: Path) -> None:
    path = function_configs.write(tmp_path, {"functions": {"lab-fn": {"time_scale": SCALE}}})
    timescale.install_time_scale(runner, "sqlite", str(tmp_path / "executions.db"), False, environ={timescale.ENV_VAR: "10"}, record_at_exit=False)
    fs.install_function_scale(runner, path)
    recovery_check(runner)
    timescale.check_internals(runner)
    assert runner._executor._clock.now() <= runner._clock.now()  # now() is the global clock's, unchanged


def test_a_runner_without_the_internals_is_refused() -> None:
    class Partial:
        _executor = object()
        _scheduler = object()
        _store = object()

    with pytest.raises(fs.FunctionScaleUnsupported, match="Executor._clock is missing"):
        fs.check_internals(Partial())


def test_an_aws_shaped_arn_names_its_function_without_reading_the_store(runner: WebRunner, tmp_path: Path) -> None:
    scaled_runner(runner, tmp_path)
    installed = fs.FunctionTimeScale(runner, lambda name: fs.REAL_TIME)
    arn = "arn:aws:lambda:us-east-1:000000000000:function:lab-fn:$LATEST/durable-execution/lab-fn/0b1c/7d8e"
    assert installed.function_of(arn) == "lab-fn"
    assert installed.function_of("not-stored/anywhere") is None  # unknown: real time, no error

