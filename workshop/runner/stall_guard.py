"""Invoke an execution the runner left with nothing to wake it: a lost wake-up, repaired and logged.

Why this module exists
----------------------
Found by the soak (500 sagas started at once, the runner's clock x10): 8 of
them stayed RUNNING for good. Each had a retry back-off wait SUCCEEDED in the
store that its handler had not seen (``SeqCounter`` 11, ``HandlerSeenSeq``
10), no re-invoke recorded, no invocation in flight and nothing else pending:
the wait completed and no invocation followed. In `dex-local-runner`
(aws-durable-execution-sdk-python-testing 1.4.0) a due wait is completed on
the execution's lane by a timer coroutine, which then invokes the handler
*after* the lane task returns; a concurrent re-arm of the wake-up cancels the
previous timer's future, and a coroutine cancelled in that window has
completed the wait but never invokes. The race needs a timer that fires while
other work for the execution is queued, so it shows under load and with
short waits (a 2 s back-off is 0.2 real seconds at x10).

Rather than patch the runner's timer code, the guard checks the invariant the
runner must keep and repairs it: an execution whose handler has an unseen
change gets an invocation; a due wait or retry gets its wake-up. Each repair
is one WARNING line in the runner's log, so a run shows whether it happened.

When an execution counts as stalled
-----------------------------------
On two checks at least ``STALL_S`` apart (real seconds) nothing about it moved
(its sequence counter, token sequence and completed invocations), and:

- no handler invocation is in flight (the runner's invocation gate is not
  INVOKING), it is not paused, and no failed invocation awaits the runner's
  own 5 s retry (``consecutive_failed_invocation_attempts`` is 0);
- and an operation changed that the handler has not seen (it is invoked), or
  a wait or retry is due (its wake-up is armed again; it fires at once).

``STALL_S`` is twice the runner's 5 s invocation retry back-off: a
legitimately idle moment between a completion and its invocation lasts
milliseconds. A spurious repair costs one replay, nothing more: the handler
suspends again on whatever it waits for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workshop.runner.recovery import earliest_wake_up

logger = logging.getLogger("workshop.runner.launcher")

CHECK_S = 5.0  # real seconds between two looks at the store
STALL_S = 10.0  # real seconds an execution must stay unchanged before it is repaired


def progress_key(execution: Any) -> tuple[int, int, int]:
    """What changes whenever an execution moves: a checkpoint, a completion, an invocation."""
    return (execution.seq_counter, execution.token_sequence, len(execution.invocation_completions))


def repair_needed(execution: Any, invoking: bool, now: Any) -> str | None:
    """'invoke' or 'rearm' when the execution waits for something the runner will not do; else None."""
    if execution.is_complete or execution.is_paused or invoking or execution.consecutive_failed_invocation_attempts:
        return None
    if execution.has_unseen_changes():
        return "invoke"
    due = earliest_wake_up(execution)
    if due is not None and due[0] <= now:
        return "rearm"
    return None


@dataclass
class StallGuard:
    """Looks at the RUNNING executions every CHECK_S and repairs the ones stalled for STALL_S."""

    runner: Any
    monotonic: Callable[[], float]
    check_s: float = CHECK_S
    stall_s: float = STALL_S
    repairs: int = 0
    _seen: dict[str, tuple[tuple[int, int, int], float]] = field(default_factory=dict)  # arn -> (progress key, since)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> StallGuard:
        self._thread = threading.Thread(target=self._loop, name="workshop-stall-guard", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.check_s + 5)

    def _loop(self) -> None:
        while not self._stopping.wait(self.check_s):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the guard must outlive one bad look; the next one tries again
                logger.exception("stall guard: could not check the executions")

    def check(self) -> list[tuple[str, str]]:
        """One look: returns the (arn, repair) pairs made."""
        from aws_durable_execution_sdk_python_testing.worker.status import InvocationState

        executor = self.runner._executor
        if executor._closing:
            return []
        executions, _ = self.runner._store.query(status_filter="RUNNING")
        now_real, now_modelled = self.monotonic(), executor._clock.now()
        seen: dict[str, tuple[tuple[int, int, int], float]] = {}
        made = []
        for execution in executions:
            arn = execution.durable_execution_arn
            key = progress_key(execution)
            previous = self._seen.get(arn)
            since = previous[1] if previous and previous[0] == key else now_real
            seen[arn] = (key, since)
            if now_real - since < self.stall_s:
                continue
            repair = repair_needed(execution, executor._invocation_gate(arn) is InvocationState.INVOKING, now_modelled)
            if repair is None:
                continue
            if repair == "invoke":
                executor._invoke_execution(arn)
                reason = "an operation changed that its handler has not seen, and no invocation followed"
            else:
                executor._schedule_earliest_pending(arn)
                reason = "a wait or retry is due and nothing fired it"
            logger.warning("stall guard: %s %s: %s (unchanged for %.0f s)", "invoked" if repair == "invoke" else "re-armed", arn, reason, now_real - since)
            seen[arn] = (key, now_real)  # give the repair STALL_S to show before trying again
            self.repairs += 1
            made.append((arn, repair))
        self._seen = seen
        return made
