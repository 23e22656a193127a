"""Run the durable runner's clock N times faster: WORKSHOP_TIME_SCALE=N.

Why this module exists
----------------------
A durable function that waits three days for a person has to be *seen* timing
out and escalating in a workshop. `dex-local-runner` (aws-durable-execution-sdk-
python-testing 1.4.0) cannot do that by itself: `--skip-time` fires waits and
retry back-offs at once but keeps callback timeouts, heartbeat timeouts and the
execution timeout on real-time timers, and the PyPI package has no time scale
(SAM passes DURABLE_EXECUTION_TIME_SCALE to its container image; the 1.4.0
package does not read it). So our launcher (`workshop.runner.launcher`) scales
the runner's one clock:

- ``now()`` runs N times faster than the wall clock, from an anchor. Every
  timestamp the runner stamps (operation start/end, wait ends, retry times,
  invocation start/end, history events) is *modelled* time: a three-day
  callback timeout shows as three days in the history.
- every timer waits 1/N of its modelled duration in real time: waits and step
  retries (armed through ``Clock.arm``), callback timeouts, heartbeat timeouts
  and the execution timeout (armed with ``Scheduler.call_later`` and a delay in
  seconds), including the timers recovery re-arms after a restart.

Scale 1 (the default, variable unset) changes nothing: no object is touched.

What is not scaled (real time, on purpose or by necessity)
----------------------------------------------------------
- The runner's own infrastructure delays: the 5 s back-off before it retries a
  failed *handler invocation* (not a durable retry) stays 5 real seconds.
- Anything outside the runner: the function host, the handlers and their
  clocks (``datetime.now()`` in a handler is real time, e.g. the approvals
  table's ``created_at``), Lambda's per-invocation timeout, HTTP timeouts,
  the CLI's and tests' deadlines. A retry budget sized against one of those
  shrinks N times: the ingest's post retries outlast Powertools' in-progress
  lock (the invocation's real deadline) at scale 1, not at 10 (the soak found
  records dead-lettered that way, so it runs the ingest at scale 1).
- The work itself: an invocation that takes 0.2 real seconds takes 0.2 × N
  modelled seconds (at N = 43200, about 2.4 hours). Histories show that, and
  an execution timeout must leave room for it.
- AWS: Lambda runs in real time. There is no time scale in the service.

The scale applies to every execution in the runner: a service configured with
short local durations (the saga's 20-second warehouse timeout) times out N
times sooner too.

Across restarts
---------------
The anchor (real time, modelled time, scale) is kept beside the store (a
`workshop_clock` table in the sqlite file) when the runner starts and when it
stops gracefully. After a restart modelled time continues from where it was,
plus the real time the runner was down (downtime is not scaled), and never
earlier than the latest timestamp in the store (after a crash the stop was
not recorded). Once a store has an anchor, the clock keeps its offset even at
scale 1, so modelled time never runs backwards. `--skip-time` cannot be
combined with a scale.

Why it touches private members
------------------------------
The runner has no clock option; the code below replaces the ``_clock`` of the
WebRunner, its Executor and its CheckpointProcessor, and wraps the
Scheduler's ``call_later`` and the Executor's ``_invoke_execution``.
``check_internals()`` verifies all of that (and that the Executor still arms
waits through ``_clock.arm`` and timeouts through ``call_later``) before any
change, and raises ``TimeScaleUnsupported`` naming what is missing.
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workshop.runner.heartbeats import heartbeat_log_path
from workshop.runner.internals import PINNED_VERSION, RecoveryUnsupported, shape_problems

logger = logging.getLogger("workshop.runner.launcher")

ENV_VAR = "WORKSHOP_TIME_SCALE"
CLOCK_TABLE = "workshop_clock"
MAX_SCALE = 10_000_000.0


class TimeScaleUnsupported(RecoveryUnsupported):
    """The time scale cannot be applied (bad value, --skip-time, or a runner without the expected internals)."""


def real_now() -> datetime:
    return datetime.now(UTC)


def scale_from_env(environ: Mapping[str, str] | None = None) -> float:
    """WORKSHOP_TIME_SCALE as a number >= 1; unset or empty is 1."""
    raw = (environ if environ is not None else os.environ).get(ENV_VAR, "").strip()
    if not raw:
        return 1.0
    try:
        scale = float(raw)
    except ValueError:
        raise TimeScaleUnsupported(f"{ENV_VAR}={raw!r} is not a number (e.g. {ENV_VAR}=3600: one hour per second)") from None
    if not 1.0 <= scale <= MAX_SCALE:
        raise TimeScaleUnsupported(f"{ENV_VAR}={raw!r}: the scale must be between 1 (real time) and {MAX_SCALE:g}")
    return scale


class ScaledClock:
    """The runner's Clock (``now``, ``arm``) running ``scale`` times faster than the wall clock."""

    def __init__(self, scale: float, real_anchor: datetime, model_anchor: datetime) -> None:
        self.scale = scale
        self.real_anchor = real_anchor
        self.model_anchor = model_anchor
        self._lock = threading.Lock()
        self._last = model_anchor

    def now(self) -> datetime:
        real = real_now()
        with self._lock:
            model = self.model_anchor + (real - self.real_anchor) * self.scale
            # A wall clock stepped backwards must not make modelled time run backwards.
            self._last = max(self._last, model)
            return self._last

    def arm(self, wake: datetime) -> float:
        """Modelled seconds until ``wake``; the scaled ``call_later`` turns them into real ones."""
        return max((wake - self.now()).total_seconds(), 0.0)


# ---------------------------------------------------------------------------
# Internals this module relies on.

_METHODS: dict[str, tuple[str, ...]] = {
    "Scheduler.call_later": ("func", "delay", "count", "completion_event"),
    "Executor._invoke_execution": ("execution_arn", "delay"),
}
# Executor methods whose source must show how they arm timers (delays in modelled seconds).
_SOURCES: dict[str, str] = {
    "_schedule_earliest_pending": "_clock.arm(",
    "_launch_execution": "call_later(",
    "_schedule_callback_timeouts": "call_later(",
    "_reset_callback_heartbeat_timeout": "call_later(",
}


def check_internals(runner: Any) -> None:
    """Raise TimeScaleUnsupported unless every internal used here is present with the expected shape."""
    problems: list[str] = []
    executor = getattr(runner, "_executor", None)
    scheduler = getattr(runner, "_scheduler", None)
    if executor is None or scheduler is None:
        raise TimeScaleUnsupported("the WebRunner has no _executor/_scheduler (was WebRunner.start() called?)")
    for owner, name in (("WebRunner", "_clock"), ("Executor", "_clock"), ("Executor", "_scheduler"), ("Executor", "_checkpoint_processor")):
        if not hasattr(runner if owner == "WebRunner" else executor, name):
            problems.append(f"{owner}.{name} is missing")
    processor = getattr(executor, "_checkpoint_processor", None)
    if processor is not None and not hasattr(processor, "_clock"):
        problems.append("CheckpointProcessor._clock is missing")
    if getattr(executor, "_scheduler", None) is not scheduler:
        problems.append("the Executor does not share the WebRunner's Scheduler")
    problems += shape_problems({"Scheduler": scheduler, "Executor": executor}, _METHODS, executor, _SOURCES)
    if problems:
        raise TimeScaleUnsupported(
            f"{ENV_VAR} scales internals of aws-durable-execution-sdk-python-testing {PINNED_VERSION}; "
            "the installed version does not have them: " + "; ".join(problems)
            + f". Unset {ENV_VAR}, install the pinned version (make env), or update workshop/runner/timescale.py."
        )


# ---------------------------------------------------------------------------
# The anchor, kept beside the store.


@dataclass(frozen=True)
class Anchor:
    real: datetime
    model: datetime
    scale: float


class AnchorStore:
    """One row: the last recorded (real time, modelled time, scale)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {CLOCK_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), real TEXT NOT NULL, model TEXT NOT NULL, scale REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30.0)

    def load(self) -> Anchor | None:
        with self._connect() as conn:
            row = conn.execute(f"SELECT real, model, scale FROM {CLOCK_TABLE} WHERE id = 1").fetchone()
        return Anchor(datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1]), float(row[2])) if row else None

    def save(self, anchor: Anchor) -> None:
        with self._connect() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO {CLOCK_TABLE} (id, real, model, scale) VALUES (1, ?, ?, ?)",
                (anchor.real.isoformat(), anchor.model.isoformat(), anchor.scale),
            )


def latest_timestamp(store: Any) -> datetime | None:
    """The latest moment any stored execution recorded (operations, checkpoints, invocations)."""
    latest: datetime | None = None

    def see(value: Any) -> None:
        nonlocal latest
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            latest = value if latest is None or value > latest else latest

    try:
        executions = store.list_all()
    except Exception:  # noqa: BLE001 - an unreadable store only loses this lower bound
        logger.exception("time scale: could not read the store for its latest timestamp")
        return None
    for execution in executions:
        for op in getattr(execution, "operations", []) or []:
            see(getattr(op, "start_timestamp", None))
            see(getattr(op, "end_timestamp", None))
        for stamp in getattr(execution, "update_timestamps", []) or []:
            see(stamp)
        for completion in getattr(execution, "invocation_completions", []) or []:
            see(getattr(completion, "end_timestamp", None))
    return latest


def continue_from(previous: Anchor | None, real: datetime, latest: datetime | None) -> datetime:
    """Modelled time at a start: the last anchor plus the real time since, never before the store's latest."""
    candidates = [real]
    if previous is not None:
        candidates.append(previous.model + (real - previous.real))
    if latest is not None:
        candidates.append(latest + timedelta(milliseconds=1))
    return max(candidates)


# ---------------------------------------------------------------------------
# Installing it.


@dataclass
class TimeScale:
    """An installed scale: ``record()`` saves the anchor (done at start and at a graceful exit)."""

    clock: ScaledClock
    anchors: AnchorStore | None

    def record(self) -> None:
        if self.anchors is None:
            return
        try:
            self.anchors.save(Anchor(real_now(), self.clock.now(), self.clock.scale))
        except Exception:  # noqa: BLE001 - a lost record only makes the next start use the store's latest timestamp
            logger.exception("time scale: could not record the clock anchor")


def install_time_scale(
    runner: Any,
    store_type: str,
    store_path: str | None,
    skip_time: bool,
    environ: Mapping[str, str] | None = None,
    record_at_exit: bool = True,
) -> TimeScale | None:
    """Scale a started WebRunner's clock by WORKSHOP_TIME_SCALE. Call after start(), before recovery.

    Returns None (and changes nothing) at scale 1 when the store has no anchor.
    ``record_at_exit`` saves the anchor when the process exits (the launcher; tests pass False).
    """
    scale = scale_from_env(environ)
    path = heartbeat_log_path(store_type, store_path)
    anchors = AnchorStore(path) if path and (scale != 1.0 or path.exists()) else None
    previous = anchors.load() if anchors else None
    if scale == 1.0 and previous is None:
        return None
    if skip_time:
        if scale != 1.0:
            raise TimeScaleUnsupported(f"{ENV_VAR}={scale:g} cannot be combined with --skip-time: choose one")
        logger.warning("time scale: --skip-time replaces the scaled clock this store was run with; modelled time may jump back")
        return None
    check_internals(runner)

    real = real_now()
    model = continue_from(previous, real, latest_timestamp(runner._store))
    clock = ScaledClock(scale, real, model)
    executor, scheduler = runner._executor, runner._scheduler
    runner._clock = clock
    executor._clock = clock
    executor._checkpoint_processor._clock = clock
    if hasattr(getattr(executor, "_child_dispatcher", None), "_clock"):
        executor._child_dispatcher._clock = clock

    # Every timer delay the runner passes is modelled seconds: wait 1/scale of it.
    original_call_later = scheduler.call_later

    def call_later(func: Any, delay: float = 0, count: int | None = 1, completion_event: Any = None) -> Any:
        return original_call_later(func, delay=max(delay, 0) / scale, count=count, completion_event=completion_event)

    scheduler.call_later = call_later

    # ...except the back-off before re-trying a failed handler invocation: infrastructure, real time.
    original_invoke = executor._invoke_execution

    def _invoke_execution(execution_arn: str, delay: float = 0) -> None:
        return original_invoke(execution_arn, delay * scale)

    executor._invoke_execution = _invoke_execution

    installed = TimeScale(clock, anchors)
    installed.record()
    if record_at_exit:
        atexit.register(installed.record)
    ahead = (model - real).total_seconds()
    logger.info(
        "time scale %g: 1 real second = %s modelled; modelled time %s (%s the wall clock)",
        scale, _duration(scale), model.isoformat(timespec="seconds"), "at" if ahead < 1 else f"{_duration(ahead)} ahead of",
    )  # fmt: skip
    return installed


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
