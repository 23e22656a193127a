"""Executions a handler run has just ended, so a waiting Invoke is woken instead of polling the runner."""

from __future__ import annotations

import threading
import time


class ExecutionEnds:
    """Which executions a handler run has just ended, so a waiting Invoke need not poll the runner.

    The SDK answers the runner's invocation with the execution's final
    Status (SUCCEEDED or FAILED) when it is over; the host sees that answer
    pass. Entries nobody waits for (an Event invoke) are dropped after a minute.
    """

    KEEP_S = 60.0

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._ended: dict[str, float] = {}
        self._changed = threading.Condition()

    def ended(self, arn: str) -> None:
        now = time.monotonic()
        with self._changed:
            self._ended = {a: t for a, t in self._ended.items() if now - t < self.KEEP_S}
            self._ended[arn] = now
            self._changed.notify_all()

    def has_ended(self, arn: str) -> bool:
        with self._changed:
            return arn in self._ended

    def wait(self, arn: str, timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: arn in self._ended or self._stop.is_set(), timeout_s)

    def forget(self, arn: str) -> None:
        with self._changed:
            self._ended.pop(arn, None)

    def wake_all(self) -> None:
        with self._changed:
            self._changed.notify_all()
