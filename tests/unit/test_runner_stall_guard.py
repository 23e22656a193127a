"""The runner's stall guard against fakes of the runner: what counts as stalled, and what it does about it.

The soak's stalled sagas are the model of the first test: a wait SUCCEEDED
that the handler has not seen, nothing in flight, nothing recorded to
re-invoke. The guard must invoke such an execution once it stayed unchanged
for STALL_S, and never one that is moving, invoking, paused or about to be
retried by the runner itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.worker.status import InvocationState

from workshop.runner.stall_guard import StallGuard, repair_needed

# One of the soak's stalled sagas as the runner stored it (stack traces and the last checkpoint's token removed).
STALLED_SAGA = Path(__file__).parent / "fixtures" / "stalled_saga_execution.json"

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


@dataclass
class FakeExecution:
    durable_execution_arn: str
    unseen: bool = False
    operations: list[Any] = field(default_factory=list)
    seq_counter: int = 1
    token_sequence: int = 1
    invocation_completions: list[Any] = field(default_factory=list)
    is_complete: bool = False
    is_paused: bool = False
    consecutive_failed_invocation_attempts: int = 0

    def has_unseen_changes(self) -> bool:
        return self.unseen


class FakeExecutor:
    def __init__(self) -> None:
        self._closing = False
        self._clock = SimpleNamespace(now=lambda: NOW)
        self.invoking: set[str] = set()
        self.invoked: list[str] = []
        self.rearmed: list[str] = []

    def _invocation_gate(self, arn: str) -> InvocationState:
        return InvocationState.INVOKING if arn in self.invoking else InvocationState.PRE_INVOKE

    def _invoke_execution(self, arn: str, delay: float = 0) -> None:
        self.invoked.append(arn)

    def _schedule_earliest_pending(self, arn: str) -> None:
        self.rearmed.append(arn)


class FakeStore:
    def __init__(self, executions: list[FakeExecution]) -> None:
        self.executions = executions

    def query(self, status_filter: str | None = None) -> tuple[list[FakeExecution], None]:
        return [e for e in self.executions if not e.is_complete], None


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def guard_over(*executions: FakeExecution) -> tuple[StallGuard, FakeExecutor, Clock]:
    executor, clock = FakeExecutor(), Clock()
    runner = SimpleNamespace(_executor=executor, _store=FakeStore(list(executions)))
    return StallGuard(runner, clock, stall_s=10.0), executor, clock


def wait_op(status: OperationStatus, ends: datetime) -> Any:
    return SimpleNamespace(operation_type=OperationType.WAIT, name="backoff", status=status, wait_details=SimpleNamespace(scheduled_end_timestamp=ends), step_details=None)


def test_an_unseen_change_with_nothing_following_is_invoked_once_it_stayed_still() -> None:
    lost = FakeExecution("arn:lost", unseen=True, operations=[wait_op(OperationStatus.SUCCEEDED, NOW - timedelta(seconds=3))])
    guard, executor, clock = guard_over(lost)
    assert guard.check() == []  # first look: not yet known to be still
    clock.t += 9.0
    assert guard.check() == []  # still less than STALL_S
    clock.t += 2.0
    assert guard.check() == [("arn:lost", "invoke")]
    assert executor.invoked == ["arn:lost"]
    clock.t += 1.0
    assert guard.check() == [], "a repair is given STALL_S to show before another"


def test_an_execution_that_moves_is_left_alone() -> None:
    busy = FakeExecution("arn:busy", unseen=True)
    guard, executor, clock = guard_over(busy)
    for _ in range(5):
        guard.check()
        busy.seq_counter += 1  # a checkpoint between two looks
        clock.t += 6.0
    assert executor.invoked == []


def test_invoking_paused_retrying_and_idle_executions_are_not_touched() -> None:
    invoking = FakeExecution("arn:invoking", unseen=True)
    paused = FakeExecution("arn:paused", unseen=True, is_paused=True)
    retrying = FakeExecution("arn:retrying", unseen=True, consecutive_failed_invocation_attempts=1)
    waiting = FakeExecution("arn:waiting", operations=[wait_op(OperationStatus.STARTED, NOW + timedelta(hours=1))])
    guard, executor, clock = guard_over(invoking, paused, retrying, waiting)
    executor.invoking.add("arn:invoking")
    guard.check()
    clock.t += 60.0
    assert guard.check() == []
    assert executor.invoked == executor.rearmed == []


def test_a_due_wait_nothing_fired_gets_its_wake_up_armed_again() -> None:
    overdue = FakeExecution("arn:overdue", operations=[wait_op(OperationStatus.STARTED, NOW - timedelta(seconds=30))])
    guard, executor, clock = guard_over(overdue)
    guard.check()
    clock.t += 11.0
    assert guard.check() == [("arn:overdue", "rearm")]
    assert executor.rearmed == ["arn:overdue"] and executor.invoked == []


def test_the_soaks_stalled_saga_as_stored_is_one_to_invoke() -> None:
    stalled = Execution.from_json_dict(json.loads(STALLED_SAGA.read_text()))
    assert not stalled.has_pending_operations(stalled), "the back-off wait completed: nothing left to fire it"
    assert repair_needed(stalled, invoking=False, now=NOW) == "invoke"
    assert repair_needed(stalled, invoking=True, now=NOW) is None, "an invocation in flight will see the change"
