"""A per-function time scale: one function's durable timers fire N times sooner; every other's keep their time.

Why this module exists
----------------------
A lab's live run (`make lab-N`) is there to show invocations: the payment
simulator fails twice, each retry waits a durable back-off, the handler
replays; the approval request times out, escalates, times out again. The
SDK's shortest durable wait is one second, so those runs spent 2-3 s of their
2.5-3 s waiting on timers, and no payload setting could make them shorter.
The global ``WORKSHOP_TIME_SCALE`` (timescale.py) would, but it speeds up
every execution in the runner: the demo's saga and its 20 s warehouse
timeout, the ingest (whose post retries are sized against Powertools'
real-time in-progress lock) and deployed user functions would all change.

So a function registered with a ``time_scale`` (workshop/registry.py; the lab
runner registers its copies with one) has it written into the runner's
function configs file under ``WorkshopTimeScale`` (function_configs.py; the
runner's own parser ignores the extra key), and this module, installed by the
launcher, makes that function's timers fire after ``delay / scale`` real
seconds:

- waits and step-retry back-offs: the Executor arms one wake-up per
  execution in ``_schedule_earliest_pending`` through ``_clock.arm``;
- and, only when its entry also says ``WorkshopTimeScaleCallbackTimeouts:
  true``, its callback timeouts and heartbeat timeouts: armed with
  ``Scheduler.call_later`` in ``_schedule_callback_timeouts`` and
  ``_reset_callback_heartbeat_timeout``.

Why callback timeouts are a choice of their own: a wait or a back-off is the
function pacing itself, while a callback timeout is a deadline for someone
else, who answers in real time. The saga's lab copies keep the warehouse's
20 s (1 s at x20 would time out a warehouse that is merely slow to start);
lab 6's approver never answers by design, so its 1 s timeouts are scaled.

What the history says
---------------------
The clock is not scaled: every timestamp stays the runner's clock (real time,
or the global scale's modelled time). A wait keeps its real
``ScheduledEndTimestamp`` (a 1 s back-off still says "1 s" and "until" one
second after it started), and its WaitSucceeded, the retry and the next
invocation are stamped when they happened: sooner. The timer fires early;
the clock does not pretend it did not. The lab says so in its header.

Firing early needs one more change: the runner's timer, when it fires,
completes only the operations whose moment has passed by its clock
(``_fire_due_operations``), which a timer fired early would not find. For a
scaled function that fire completes the operations its wake-up was armed for
(``Execution.complete_wait`` stamped with the clock's now, and
``Execution.complete_retry``), once that wake-up is due by the scaled delay;
anything else (a stale timer, a function at scale 1) goes to the runner's
own code. The SDK replays on the operation's status (SUCCEEDED, READY), not
on its timestamps, so a retry or a wait completed early replays as usual.

Not scaled: the execution timeout, the runner's 5 s back-off before it
retries a failed invocation, and the timers recovery re-arms after a restart
(they run in the function's real time once; its later timers are scaled).

Why it touches private members
------------------------------
The runner has no per-function clock. ``check_internals()`` verifies every
member used below (and that the Executor still arms and fires as described)
before any change, and raises ``FunctionScaleUnsupported`` naming what is
missing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from workshop.runner.internals import PINNED_VERSION, RecoveryUnsupported, shape_problems
from workshop.watched_file import WatchedFile

logger = logging.getLogger("workshop.runner.launcher")

CONFIG_KEY = "WorkshopTimeScale"  # the key in a function configs entry (function_configs.write)
CALLBACKS_KEY = "WorkshopTimeScaleCallbackTimeouts"  # true: its callback and heartbeat timeouts too
MAX_SCALE = 1000.0
# A wake-up fired this much before its scaled moment still counts as due (timer granularity).
DUE_TOLERANCE = timedelta(milliseconds=10)
REMEMBERED_NAMES = 10_000  # execution -> function, for ARNs that do not name it (oldest forgotten first)


class FunctionScaleUnsupported(RecoveryUnsupported):
    """The installed runner lacks an internal the per-function scale relies on."""


@dataclass(frozen=True)
class FunctionScale:
    """One function's scale: its waits and retry back-offs fire ``factor`` times sooner; its callback timeouts too if asked."""

    factor: float = 1.0
    callback_timeouts: bool = False

    def for_timers(self, callbacks: bool) -> float:
        """The factor for a wait or retry (callbacks False) or for a callback or heartbeat timeout (True)."""
        return self.factor if not callbacks or self.callback_timeouts else 1.0


REAL_TIME = FunctionScale()


def scales_in(configs: Mapping[str, Any]) -> dict[str, FunctionScale]:
    """The function configs' scales above 1 (each entry's CONFIG_KEY); a value that is no scale is ignored, with a line."""
    scales: dict[str, FunctionScale] = {}
    for name, entry in configs.items():
        raw = entry.get(CONFIG_KEY) if isinstance(entry, dict) else None
        if raw is None:
            continue
        try:
            scale = float(raw)
        except (TypeError, ValueError):
            scale = 0.0
        if not 1.0 <= scale <= MAX_SCALE:
            logger.warning("function %s: %s=%r is not a scale between 1 and %g; it runs in real time", name, CONFIG_KEY, raw, MAX_SCALE)
            continue
        if scale > 1.0:
            scales[name] = FunctionScale(scale, entry.get(CALLBACKS_KEY) is True)
    return scales


def followed_scales(path: Path) -> Callable[[str], FunctionScale]:
    """``scale_of(function_name)`` read from the function configs file, again whenever it changes."""

    def parse(p: Path) -> dict[str, FunctionScale]:
        raw = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        return scales_in(raw)

    def say(exc: Exception) -> None:
        logger.warning("function time scales: %s is not readable (%s); keeping the previous ones", path, exc)

    followed: WatchedFile[dict[str, FunctionScale]] = WatchedFile(Path(path), parse, {}, on_error=say)
    return lambda name: followed.current().get(name, REAL_TIME)


def bare_name(function_name: str) -> str:
    """A function's name without an ARN prefix or a qualifier (its key in the function configs)."""
    name = function_name.rsplit(":function:", 1)[-1]
    return name.split(":", 1)[0]


# ---------------------------------------------------------------------------
# Internals this module relies on.

_METHODS: dict[str, tuple[str, ...]] = {
    "Executor._schedule_earliest_pending": ("execution_arn",),
    "Executor._fire_due_operations": ("execution_arn",),
    "Executor._schedule_callback_timeouts": ("execution_arn", "callback_options", "callback_id"),
    "Executor._reset_callback_heartbeat_timeout": ("callback_id", "execution_arn"),
    "Scheduler.call_later": ("func", "delay", "count", "completion_event"),
    "Execution.complete_wait": ("operation_id", "now"),
    "Execution.complete_retry": ("operation_id",),
}
# Executor methods whose source must show how they arm and fire the timers this module changes.
_SOURCES: dict[str, str] = {
    "_schedule_earliest_pending": "_clock.arm(",
    "_fire_due_and_invoke_handler": "self._fire_due_operations(",
    "_schedule_callback_timeouts": "call_later(",
    "_reset_callback_heartbeat_timeout": "call_later(",
}


def check_internals(runner: Any) -> None:
    """Raise FunctionScaleUnsupported unless every internal used here is present with the expected shape."""
    from aws_durable_execution_sdk_python_testing.execution import Execution

    executor, scheduler = getattr(runner, "_executor", None), getattr(runner, "_scheduler", None)
    if executor is None or scheduler is None or not hasattr(runner, "_store"):
        raise FunctionScaleUnsupported("the WebRunner has no _executor/_scheduler/_store (was WebRunner.start() called?)")
    owners = {"Executor": executor, "Scheduler": scheduler, "Execution": Execution}
    problems = [] if hasattr(executor, "_clock") else ["Executor._clock is missing"]
    problems += shape_problems(owners, _METHODS, executor, _SOURCES)
    if problems:
        raise FunctionScaleUnsupported(
            f"the per-function time scale ({CONFIG_KEY}) uses internals of aws-durable-execution-sdk-python-testing "
            f"{PINNED_VERSION}; the installed version does not have them: " + "; ".join(problems)
            + ". Install the pinned version (make env), or update workshop/runner/function_scale.py."
        )


# ---------------------------------------------------------------------------
# Installing it.


@dataclass(frozen=True)
class ArmedWakeUp:
    """A scaled execution's wake-up: armed for the operations due at ``wake``, due itself at ``due`` (both on the runner's clock)."""

    wake: datetime
    due: datetime


class _Timers(threading.local):
    """What the timers armed on this thread, now, belong to (set around the Executor's arming methods)."""

    arn: str | None = None
    scale: float = 1.0
    divide_call_later: bool = False  # callback timers: call_later gets the delay; waits: arm() divides it


class _ArmClock:
    """The Executor's clock: ``now`` unchanged; ``arm`` divided by the scale of the execution being armed."""

    def __init__(self, inner: Any, scale: FunctionTimeScale) -> None:
        self.inner = inner
        self._scale = scale

    def now(self) -> datetime:
        return self.inner.now()

    def arm(self, wake: datetime) -> float:
        delay = self.inner.arm(wake)
        timers = self._scale.timers
        if timers.arn is None or timers.scale == 1.0:
            return delay
        sooner = delay / timers.scale
        self._scale.armed_for(timers.arn, ArmedWakeUp(wake=wake, due=self.inner.now() + timedelta(seconds=sooner)))
        return sooner


class FunctionTimeScale:
    """The per-function scale, installed on a started WebRunner (``install``); ``scale_of(name)`` gives each function's."""

    def __init__(self, runner: Any, scale_of: Callable[[str], FunctionScale]) -> None:
        self.runner = runner
        self.scale_of = scale_of
        self.timers = _Timers()
        self._lock = threading.Lock()
        self._armed: dict[str, ArmedWakeUp] = {}
        self._function_of: OrderedDict[str, str] = OrderedDict()  # ARNs without the function in them

    # -- which execution, which scale

    def function_of(self, execution_arn: str) -> str | None:
        """The execution's function: from its ARN when it has AWS's shape (aws_shapes.py), else from the store (remembered)."""
        if ":function:" in execution_arn:
            return bare_name(execution_arn.split("/", 1)[0])
        with self._lock:
            name = self._function_of.get(execution_arn)
        if name is None:
            try:
                name = bare_name(self.runner._store.load(execution_arn).start_input.function_name)
            except Exception:  # noqa: BLE001 - an execution the store cannot give runs in real time
                return None
            with self._lock:
                self._function_of[execution_arn] = name
                while len(self._function_of) > REMEMBERED_NAMES:
                    self._function_of.popitem(last=False)
        return name

    def scale_of_execution(self, execution_arn: str) -> FunctionScale:
        name = self.function_of(execution_arn)
        return REAL_TIME if name is None else self.scale_of(name)

    @contextmanager
    def arming(self, execution_arn: str, callbacks: bool) -> Iterator[None]:
        """Timers armed inside belong to ``execution_arn`` (its function's scale); ``callbacks``: callback timeouts, through call_later."""
        saved = (self.timers.arn, self.timers.scale, self.timers.divide_call_later)
        self.timers.arn, self.timers.scale = execution_arn, self.scale_of_execution(execution_arn).for_timers(callbacks)
        self.timers.divide_call_later = callbacks
        try:
            yield
        finally:
            self.timers.arn, self.timers.scale, self.timers.divide_call_later = saved

    def armed_for(self, execution_arn: str, wake_up: ArmedWakeUp) -> None:
        with self._lock:
            self._armed[execution_arn] = wake_up

    def take_due(self, execution_arn: str, now: datetime) -> ArmedWakeUp | None:
        """The execution's scaled wake-up if it is due now (taken), else None (a stale timer, or none armed)."""
        with self._lock:
            armed = self._armed.get(execution_arn)
            if armed is None or now + DUE_TOLERANCE < armed.due:
                return None
            return self._armed.pop(execution_arn)

    # -- firing early

    def fire_early(self, execution_arn: str, wake_up: ArmedWakeUp) -> bool:
        """Complete the waits and retries due by ``wake_up.wake`` (as ``_fire_due_operations`` does for those due by now)."""
        from aws_durable_execution_sdk_python_testing.model import OperationStatus, OperationType

        store, clock = self.runner._store, self.runner._executor._clock
        try:
            execution = store.load(execution_arn)
        except Exception:  # noqa: BLE001 - as the runner's own: a store torn down fires nothing
            return False
        if execution.is_complete:
            return False
        now = clock.now()
        horizon = max(wake_up.wake, now)
        completed = False
        for op in list(execution.operations):
            try:
                if (op.operation_type is OperationType.WAIT and op.status is OperationStatus.STARTED and op.wait_details is not None
                        and op.wait_details.scheduled_end_timestamp is not None and op.wait_details.scheduled_end_timestamp <= horizon):
                    execution.complete_wait(op.operation_id, now=now)  # stamped when it happened: sooner
                    completed = True
                elif (op.operation_type is OperationType.STEP and op.status is OperationStatus.PENDING and op.step_details is not None
                        and op.step_details.next_attempt_timestamp is not None and op.step_details.next_attempt_timestamp <= horizon):
                    execution.complete_retry(op.operation_id)
                    completed = True
            except Exception:  # noqa: BLE001 - as the runner's own: one bad operation does not block the rest
                logger.exception("[%s] could not complete operation %s early", execution_arn, op.operation_id)
        if completed:
            store.update(execution)
        return completed

    def install(self) -> FunctionTimeScale:
        check_internals(self.runner)
        executor, scheduler = self.runner._executor, self.runner._scheduler
        executor._clock = _ArmClock(executor._clock, self)

        original_call_later = scheduler.call_later

        def call_later(func: Any, delay: float = 0, count: int | None = 1, completion_event: Any = None) -> Any:
            if self.timers.divide_call_later and self.timers.scale != 1.0:
                delay = max(delay, 0) / self.timers.scale
            return original_call_later(func, delay=delay, count=count, completion_event=completion_event)

        scheduler.call_later = call_later

        original_schedule = executor._schedule_earliest_pending

        def _schedule_earliest_pending(execution_arn: str) -> None:
            with self._lock:  # armed again below when anything is still pending
                self._armed.pop(execution_arn, None)
            with self.arming(execution_arn, callbacks=False):
                original_schedule(execution_arn)

        executor._schedule_earliest_pending = _schedule_earliest_pending

        original_fire = executor._fire_due_operations

        def _fire_due_operations(execution_arn: str) -> bool:
            wake_up = self.take_due(execution_arn, executor._clock.now())
            return original_fire(execution_arn) if wake_up is None else self.fire_early(execution_arn, wake_up)

        executor._fire_due_operations = _fire_due_operations

        original_callbacks = executor._schedule_callback_timeouts

        def _schedule_callback_timeouts(execution_arn: str, callback_options: Any, callback_id: str) -> None:
            with self.arming(execution_arn, callbacks=True):
                original_callbacks(execution_arn, callback_options, callback_id)

        executor._schedule_callback_timeouts = _schedule_callback_timeouts

        original_reset = executor._reset_callback_heartbeat_timeout

        def _reset_callback_heartbeat_timeout(callback_id: str, execution_arn: str) -> None:
            with self.arming(execution_arn, callbacks=True):
                original_reset(callback_id, execution_arn)

        executor._reset_callback_heartbeat_timeout = _reset_callback_heartbeat_timeout
        return self


def install_function_scale(runner: Any, function_configs_path: Path | None) -> FunctionTimeScale | None:
    """Scale each function's timers by its configs entry's WorkshopTimeScale; None (no change) without a followed configs file.

    Call after the global time scale (it wraps the clock that one installs) and before recovery.
    """
    if function_configs_path is None:
        return None
    installed = FunctionTimeScale(runner, followed_scales(function_configs_path)).install()
    logger.info("per-function time scales from %s (%s)", function_configs_path, CONFIG_KEY)
    return installed
