"""Re-arm the durable runner's in-memory state after a restart.

Why this module exists
----------------------
`dex-local-runner` (aws-durable-execution-sdk-python-testing 1.4.0) keeps its
executions in a store (sqlite in this workshop), so they survive a restart.
But everything that makes a *suspended* execution move again lives only in the
runner's memory: the wake-up timer of a `context.wait` or a step retry
back-off, the execution timeout, callback timeouts and heartbeat timeouts, the
completion event of each execution, and the handler invocation that was in
flight. The runner has no recovery of its own: after a restart each such
execution stays RUNNING forever. `recover()` rebuilds that state from the store
when our launcher (`workshop.runner.launcher`) starts the runner.

Why it touches private members
------------------------------
The runner exposes no public API for any of this, so the code below calls
private members of the pinned 1.4.0 `Executor` (listed in `_REQUIRED`,
workshop/runner/internals.py). All such use is kept in this package
(recovery.py, heartbeats.py, internals.py). `check_internals()` runs before anything else and
raises `RecoveryUnsupported` naming what is missing, so another version of the
package fails loudly at start instead of silently skipping recovery. Update
these modules (and their tests) together with the pin.

What is recovered (one log line per execution says which)
---------------------------------------------------------
- Execution timeout: remaining = start + ExecutionTimeout - now; one already
  past times the execution out at once (before the server answers).
- Waits and step retries: `Executor._schedule_earliest_pending`, which reads the
  absolute timestamps kept on the operations; a due one fires at once.
- Callback timeout (from the callback's start) and heartbeat timeout (from the
  last heartbeat, else the callback's start). The runner does not store
  heartbeats, so `install_heartbeat_log()` records their times beside the store
  (a `workshop_callback_heartbeats` table in the sqlite file).
- Chained invokes: a durable child that finished while its parent was not told
  is delivered; a child started but not yet recorded on its parent is linked;
  an invoke never dispatched (or a plain target whose Invoke was in flight) is
  dispatched again (at least once, as a Lambda retry would be).
- Re-invoke: an execution with nothing pending, a recorded re-invoke request,
  an operation change its handler never saw, or a checkpoint newer than its last
  completed invocation (an invocation was in flight when the runner died) is
  invoked again. The handler replays, which is safe by design.

Timers that fire an invocation are armed once the Lambda endpoint accepts
connections (up to ENDPOINT_WAIT_S): `make up` starts the runner before the
function host, and an invoke to a closed port would cost a failed attempt and
the runner's 5 s retry back-off. Remaining times are computed when armed, from
absolute timestamps, so the wait loses nothing.

What it does not cover
----------------------
- `--store-type memory`: nothing survives a restart, so there is nothing to recover.
- `--skip-time`: the skipped offset lives in memory; after a restart, remaining
  execution and callback timeouts are counted in real time from timestamps that
  may be ahead of it, so they can come later than modelled (never earlier).
  Waits and retries still fire at once.
- An invocation that was in flight, had not checkpointed since the previous one
  completed, on an execution that also has another pending operation: it is not
  detected; the handler runs again when that other operation completes.
- Heartbeats received by a runner not started by this launcher are unknown: the
  heartbeat timeout then counts from the callback's start.
- At-least-once effects are real: a step whose invocation died with the runner
  runs again on the re-invoke (an at-most-once step gets StepInterruptedError),
  and a plain chained-invoke target whose Invoke was in flight is invoked again.
- An execution timed out during recovery tells its parent at once; if the
  function host is not up yet, the parent's invocation takes the runner's retry.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from workshop.runner.aws_shapes import split_execution_arn
from workshop.runner.heartbeats import HeartbeatLog
from workshop.runner.internals import check_internals

logger = logging.getLogger("workshop.runner.launcher")

ENDPOINT_WAIT_S = 30.0
# Invocation completions are stored with millisecond precision, checkpoints with microseconds.
_CLOCK_SLACK = timedelta(milliseconds=2)


# ---------------------------------------------------------------------------
# Recovery


@dataclass
class _Recovered:
    arn: str
    function: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Recovery:
    """The outcome of recover(): `done` is set once every execution is re-armed."""

    executions: list[_Recovered] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.stopping.set()


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def _fmt(seconds: float) -> str:
    return "now" if seconds <= 0 else f"in {seconds:.1f} s"


def _short(arn: str) -> str:
    """A log line's name for an execution: `function/execution name` of an AWS-shaped ARN, the first uuid of an old one."""
    parts = split_execution_arn(arn)
    return f"{parts['function']}/{parts['name']}" if parts else arn.split("/")[0]


def recover(runner: Any, lambda_endpoint: str, heartbeats: HeartbeatLog | None, endpoint_wait_s: float = ENDPOINT_WAIT_S) -> Recovery:
    """Recover every incomplete execution of a started WebRunner. Call after start(), before serve_forever().

    Synchronously: completion events and execution timeouts (an expired one times
    the execution out here). In a background thread, once the Lambda endpoint
    accepts connections: waits, retries, callback timeouts, chained invokes, re-invokes.
    """
    check_internals(runner)
    executor, store, scheduler = runner._executor, runner._store, runner._scheduler
    from aws_durable_execution_sdk_python.lambda_service import ErrorObject

    recovery = Recovery()
    started = time.monotonic()
    executions, _ = store.query(status_filter="RUNNING")
    pending: list[tuple[_Recovered, Any]] = []
    for execution in executions:
        if execution.is_complete:
            continue
        arn = execution.durable_execution_arn
        item = _Recovered(arn, execution.start_input.function_name)
        recovery.executions.append(item)
        event = scheduler.create_event()
        executor._completion_events[arn] = event
        timeout_s = execution.start_input.execution_timeout_seconds or 0
        if timeout_s > 0:
            start = execution.get_operation_execution_started().start_timestamp
            remaining = _seconds(start + timedelta(seconds=timeout_s) - executor._clock.now())
            error = ErrorObject.from_message(f"Execution timed out after {timeout_s} seconds.")
            if remaining <= 0:
                executor.on_timed_out(arn, error)
                item.notes.append(f"execution timeout ({timeout_s} s) passed while the runner was down: timed out")
                logger.warning("recovered %s (%s): %s", arn, item.function, "; ".join(item.notes))
                continue

            def timeout_handler(arn: str = arn, error: Any = error) -> None:
                executor.on_timed_out(arn, error)

            executor._execution_timeouts[arn] = scheduler.call_later(timeout_handler, delay=remaining, completion_event=event)
            item.notes.append(f"execution timeout {_fmt(remaining)}")
        pending.append((item, execution))

    def phase_two() -> None:
        try:
            if pending and not _wait_for_endpoint(lambda_endpoint, endpoint_wait_s, recovery.stopping):
                if recovery.stopping.is_set():
                    return
                logger.warning("the Lambda endpoint %s did not accept connections within %.0f s; re-arming anyway", lambda_endpoint, endpoint_wait_s)
            active_callbacks: set[str] = set()
            last_beats = heartbeats.all() if heartbeats else {}
            all_executions: list[Any] | None = None
            for item, execution in pending:
                if recovery.stopping.is_set() or executor._closing:
                    return
                try:
                    if all_executions is None and _has_undispatched_invoke(execution):
                        all_executions = store.list_all()
                    _rearm(executor, store, item, last_beats, active_callbacks, all_executions or [])
                except Exception:  # noqa: BLE001 - one bad execution must not block the others
                    logger.exception("could not recover %s", item.arn)
                    item.notes.append("recovery FAILED (see the traceback above)")
                logger.info("recovered %s (%s): %s", item.arn, item.function, "; ".join(item.notes) or "nothing to re-arm")
            if heartbeats:
                heartbeats.forget_except(active_callbacks, last_beats)
            if recovery.executions:
                logger.info("recovery: %d incomplete execution(s) re-armed in %.2f s", len(recovery.executions), time.monotonic() - started)
        finally:
            recovery.done.set()

    if not recovery.executions:
        logger.info("recovery: no incomplete executions in the store")
        recovery.done.set()
        return recovery
    recovery.thread = threading.Thread(target=phase_two, name="workshop-recovery", daemon=True)
    recovery.thread.start()
    return recovery


def _wait_for_endpoint(url: str, deadline_s: float, stopping: threading.Event) -> bool:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + deadline_s
    while not stopping.is_set():
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            stopping.wait(0.1)
    return False


def _has_undispatched_invoke(execution: Any) -> bool:
    from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType

    return any(
        op.operation_type == OperationType.CHAINED_INVOKE
        and op.status == OperationStatus.STARTED
        and op.operation_id not in execution.chained_invoke_children
        for op in execution.operations
    )


def _start_update(execution: Any, operation_id: str) -> Any | None:
    for update in execution.updates:
        if update.operation_id == operation_id and update.action.value == "START":
            return update
    return None


def _rearm(executor: Any, store: Any, item: _Recovered, last_beats: dict[str, datetime], active_callbacks: set[str], all_executions: list[Any]) -> None:
    from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType

    from aws_durable_execution_sdk_python_testing.worker.checkpoint_tasks import CallableTask

    arn = item.arn
    notes = item.notes

    # Callback timers: armed on the execution's lane, so a callback completed meanwhile is seen.
    def arm_callbacks() -> None:
        execution = store.load(arn)
        if execution.is_complete:
            return
        now = executor._clock.now()
        event = executor._completion_events.get(arn)
        for op in execution.operations:
            if op.operation_type != OperationType.CALLBACK or op.status != OperationStatus.STARTED or not op.callback_details:
                continue
            callback_id = op.callback_details.callback_id
            active_callbacks.add(callback_id)
            update = _start_update(execution, op.operation_id)
            options = update.callback_options if update else None
            timers: list[tuple[float, str]] = []
            if not options or (options.timeout_seconds <= 0 and options.heartbeat_timeout_seconds <= 0):
                notes.append(f"callback '{op.name}' waits (no timeout)")
                continue
            if options.timeout_seconds > 0:
                timers.append((_seconds(op.start_timestamp + timedelta(seconds=options.timeout_seconds) - now), "timeout"))
            if options.heartbeat_timeout_seconds > 0 and callback_id not in executor._callback_heartbeats:
                beat = max(op.start_timestamp, last_beats.get(callback_id, op.start_timestamp))
                timers.append((_seconds(beat + timedelta(seconds=options.heartbeat_timeout_seconds) - now), "heartbeat timeout"))
            timers.sort()
            if timers and timers[0][0] <= 0:
                timers = timers[:1]  # already expired: it decides, as it would have; a second timer would only log an error
            for remaining, kind in timers:
                if kind == "timeout":
                    handler = executor._on_callback_timeout
                    registry = executor._callback_timeouts
                else:
                    handler = executor._on_callback_heartbeat_timeout
                    registry = executor._callback_heartbeats
                if old := registry.pop(callback_id, None):
                    old.cancel()
                registry[callback_id] = executor._scheduler.call_later(
                    lambda handler=handler, cid=callback_id: handler(arn, cid), delay=max(remaining, 0.0), completion_event=event
                )
                notes.append(f"callback '{op.name}' {kind} {_fmt(remaining)}")

    executor._registry.submit(arn, CallableTask(arm_callbacks)).result()

    execution = store.load(arn)
    if execution.is_complete:
        notes.append("completed meanwhile")
        return

    # Chained invokes whose outcome never reached this execution.
    for op in execution.operations:
        if op.operation_type != OperationType.CHAINED_INVOKE or op.status != OperationStatus.STARTED:
            continue
        child_arn = execution.chained_invoke_children.get(op.operation_id)
        if child_arn is None:
            orphan = next(
                (e for e in all_executions if e.parent_execution_arn == arn and e.durable_execution_arn not in execution.chained_invoke_children.values()),
                None,
            )
            if orphan is not None:
                child_arn = orphan.durable_execution_arn
                executor._registry.submit(arn, CallableTask(lambda o=op.operation_id, c=child_arn: executor._record_child_on_parent(arn, o, c))).result()
                notes.append(f"chained invoke '{op.name}' linked to its child {_short(child_arn)}")
        if child_arn is not None:
            if store.load(child_arn).is_complete:
                executor._notify_parent_of_terminal_child(child_arn)
                notes.append(f"chained invoke '{op.name}': finished child delivered")
            else:
                notes.append(f"chained invoke '{op.name}': child {_short(child_arn)} still running (recovered on its own)")
            continue
        update = _start_update(execution, op.operation_id)
        options = update.chained_invoke_options if update else None
        if options is None:
            notes.append(f"chained invoke '{op.name}' has no recorded target: left as is")
            continue
        executor.on_chained_invoke_started(arn, op.operation_id, options.function_name, options.tenant_id, update.payload)
        notes.append(f"chained invoke '{op.name}' dispatched again to {options.function_name}")

    # Waits and step retries: one wake-up at the earliest absolute timestamp.
    earliest = earliest_wake_up(execution)
    if earliest is not None:
        executor._schedule_earliest_pending(arn)
        notes.append(f"{earliest[1]} {_fmt(_seconds(earliest[0] - executor._clock.now()))}")

    # An invocation the runner will not otherwise make.
    reason = _reinvoke_reason(execution)
    if reason:
        if execution.is_paused:
            notes.append(f"paused: no re-invoke ({reason})")
        else:
            executor._invoke_execution(arn)
            notes.append(f"re-invoked ({reason})")


def earliest_wake_up(execution: Any) -> tuple[datetime, str] | None:
    """The first moment a STARTED wait ends or a PENDING step retries, with what it is; None when neither."""
    from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType

    found: list[tuple[datetime, str]] = []
    for op in execution.operations:
        if op.operation_type == OperationType.WAIT and op.status == OperationStatus.STARTED and op.wait_details and op.wait_details.scheduled_end_timestamp:
            found.append((op.wait_details.scheduled_end_timestamp, f"wait '{op.name}' ends"))
        elif op.operation_type == OperationType.STEP and op.status == OperationStatus.PENDING and op.step_details and op.step_details.next_attempt_timestamp:
            found.append((op.step_details.next_attempt_timestamp, f"step '{op.name}' retries"))
    return min(found, key=lambda pair: pair[0]) if found else None


def _reinvoke_reason(execution: Any) -> str | None:
    if execution.needs_reinvoke:
        return "a re-invoke was requested before the restart"
    if not execution.has_pending_operations(execution):
        return "nothing pending: an invocation was in flight or never made"
    if execution.has_unseen_changes():
        return "an operation changed that the handler has not seen"
    last_update = max(execution.update_timestamps, default=None)
    last_end = max((c.end_timestamp for c in execution.invocation_completions), default=None)
    if last_update is not None and (last_end is None or last_update > last_end + _CLOCK_SLACK):
        return "an invocation was in flight (checkpoint after its last completed invocation)"
    return None
