"""What every in-process run of a lab's handler shares, whatever the service.

The saga, ingest and approval harnesses differ in the environment they name,
the fakes they fill and what they read back; they all put the in-process AWS
fakes behind `_shared.clients`, set the function's environment for the run
only, run the handler under DurableFunctionTestRunner (waits and retry
back-offs skipped) and file its log lines per invocation. That part is here,
once, so a service's harness says only what is its own.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.labs.capture import InvocationLines, capture_log_lines, per_invocation
from workshop.labs.deadlines import FUNCTION_TIMEOUT_S, StuckError, learner_line, step_timeout_s, timed_out_text, unfinished_step
from workshop.testing.fakes import FakeAWS

# Handler files found stuck in this process (path -> the cause): the next run of the same
# file fails at once with that cause instead of spinning another core for another timeout.
_STUCK: dict[str, str] = {}


def set_environment(values: Mapping[str, str | None]) -> None:
    """Set each variable, or remove it where the value is None (a lab's ENV_OVERRIDES say so)."""
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """These variables set (None: removed) for the block, the previous values restored after it."""
    saved = {key: os.environ.get(key) for key in values}
    set_environment(values)
    try:
        yield
    finally:
        set_environment(saved)


class InvocationClock:
    """When each invocation of the handler started and whether it has returned.

    The test runner stops waiting for an invocation after the function's
    timeout, as Lambda does, but cannot stop the thread running it (a loop
    goes on spinning a daemon thread); this clock is how the harness tells a
    step that never returns from a run that is merely slow.
    """

    def __init__(self, handler: Callable[[Any, Any], Any]) -> None:
        self._handler = handler
        self._lock = threading.Lock()
        self.started: list[float] = []
        self.ended: dict[int, float] = {}

    def __call__(self, event: Any, context: Any) -> Any:
        with self._lock:
            number = len(self.started)
            self.started.append(time.monotonic())
        try:
            return self._handler(event, context)
        finally:
            with self._lock:
                self.ended[number] = time.monotonic()

    def overrun(self, limit_s: float) -> list[int]:
        """1-based numbers of the invocations that ran (or are running) for limit_s or longer."""
        now = time.monotonic()
        with self._lock:
            return [n + 1 for n, start in enumerate(self.started) if self.ended.get(n, now) - start >= limit_s]

    def in_flight_for(self) -> float:
        """How long the oldest invocation that has not returned has been running (0: none)."""
        now = time.monotonic()
        with self._lock:
            running = [now - start for n, start in enumerate(self.started) if n not in self.ended]
        return max(running, default=0.0)


@dataclass
class InProcess:
    """One in-process function environment: the fakes, the test runner, the lines each invocation printed."""

    fake: FakeAWS
    runner: Any  # DurableFunctionTestRunner
    lines: InvocationLines
    warnings: list[warnings.WarningMessage]
    clock: InvocationClock | None = None
    step_s: float = FUNCTION_TIMEOUT_S
    handler_file: Path | None = None

    def lines_since(self, first: int) -> list[list[str]]:
        """The lines of each invocation from invocation number `first` (0-based) on."""
        return [list(bucket) for bucket in self.lines.invocations[first:]]

    def wait_for_result(self, arn: str, timeout_s: float) -> Any:
        """The runner's result, or StuckError naming the step that did not return (never a hang)."""
        def complete() -> bool:
            if self.runner._store.load(arn).is_complete:  # the runner's own wait polls this same store
                return True
            time.sleep(0.05)
            return False

        self._wait(arn, timeout_s, complete)
        return self.runner.wait_for_result(arn, timeout=5)

    def wait_for_callback(self, arn: str, name: str | None, timeout_s: float) -> str:
        """The callback's id once the execution created it; StuckError if a step got stuck first."""
        found: list[str] = []

        def created() -> bool:
            try:
                found.append(self.runner.wait_for_callback(arn, name=name, timeout=0.05))
            except TimeoutError:
                return False
            return True

        self._wait(arn, timeout_s, created)
        return found[0]

    def run(self, event_json: str, execution_timeout: int) -> Any:
        """runner.run(), with the same watch on every invocation."""
        arn = self.runner.run_async(input=event_json, execution_timeout=execution_timeout)
        return self.wait_for_result(arn, execution_timeout)

    def _wait(self, arn: str, timeout_s: float, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            finished = done()
            stuck = self.clock.overrun(self.step_s) if self.clock else []
            if stuck:
                self._fail(arn, timed_out_text(self._step(arn), self.step_s, stuck, None))
            if finished:
                if self.clock and self.clock.in_flight_for() >= 2.0:  # it ended (timed out) around a step still running
                    self._fail(arn, f"{self._what(arn)} was still running when the execution ended")
                return
            if time.monotonic() > deadline:
                self._fail(arn, f"the execution did not end within {timeout_s:.0f} s ({self._what(arn)} was running)")

    def _step(self, arn: str) -> str | None:
        try:
            events = [e.to_dict() if hasattr(e, "to_dict") else {} for e in self.runner.get_execution_history(arn).events]
        except Exception:  # noqa: BLE001 - naming the step is a help; the timeout is the fact
            return None
        return unfinished_step(events)

    def _what(self, arn: str) -> str:
        step = self._step(arn)
        return f"step `{step}`" if step else "the handler"

    def _fail(self, arn: str, cause: str) -> None:
        where = learner_line(self.handler_file) if self.handler_file else ""
        cause = cause + (f"; {where}" if where else "")
        if self.handler_file:
            _STUCK[str(self.handler_file)] = cause
        raise StuckError(cause)


def handler_file_of(handler: Callable[..., Any]) -> Path | None:
    """The file a (decorated) handler was defined in: functools.wraps keeps its __module__."""
    module = sys.modules.get(getattr(handler, "__module__", "") or "")
    file = getattr(module, "__file__", None)
    return Path(file) if file else None


@contextmanager
def in_process(
    handler: Callable[[Any, Any], Any],
    env: Mapping[str, str | None],
    poll_interval: float = 0.05,
    fake: FakeAWS | None = None,
    handler_file: Path | None = None,
) -> Iterator[InProcess]:
    """`handler` as a durable function on fresh fakes (empty tables), with `env` for the block.

    Every warning the handler raises is recorded (Powertools warns, e.g., when
    it finds no idempotency key); an invocation that raises is retried at once,
    as the runner skips retry back-offs. Async invokes the fakes started are
    joined before the runner closes. An invocation gets the function's
    timeout (deadlines.py), as on Lambda; a handler file found stuck before
    in this process fails at once with the same cause.
    """
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
    from _shared import clients

    from workshop.host import prompt_stop

    tracing = str(env.get("POWERTOOLS_TRACE_DISABLED") or os.environ.get("POWERTOOLS_TRACE_DISABLED", "true")).lower() != "true"
    if not tracing:
        # Each invocation returns when it ends, not up to 0.1 s later (lab 5's checks: 2.8 s -> 1.3 s).
        # Not with X-Ray on in-process (lab 2): invocations a millisecond apart in one process
        # put a second `## lambda_handler` in one invocation's trace (10 of 25 runs, measured).
        prompt_stop.install()

    handler_file = handler_file or handler_file_of(handler)
    if handler_file and str(handler_file) in _STUCK:
        raise StuckError(_STUCK[str(handler_file)] + " — found earlier in these checks; not run again")
    step_s = step_timeout_s() or FUNCTION_TIMEOUT_S
    fake = fake or FakeAWS()
    clients.use_factory(fake.client)
    try:
        with environment(env), capture_log_lines() as sink, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            clock = InvocationClock(per_invocation(handler, sink))
            runner = DurableFunctionTestRunner(handler=clock, poll_interval=poll_interval, invocation_timeout=step_s)
            # An invocation that raises (not a failed execution) is retried after 5 s, up to 5 times.
            runner._executor.RETRY_BACKOFF_SECONDS = 0
            fake.lambda_.runner = runner  # callbacks answered through the fake Lambda reach this runner
            try:
                yield InProcess(fake=fake, runner=runner, lines=sink, warnings=seen, clock=clock, step_s=step_s, handler_file=handler_file)
            finally:
                fake.lambda_.join()
                runner.close()  # a stuck step's thread is the runner's daemon: not waited for
    finally:
        clients.use_factory(None)


def wait_until_suspended(runner: Any, arn: str, timeout_s: float) -> None:
    """After a callback exists, the invocation still has to finish suspending (and flush).

    Suspended = the last history event is an InvocationCompleted that came
    after the callback started.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        types = [event.event_type for event in runner.get_execution_history(arn).events]
        if "CallbackStarted" in types and types[-1] == "InvocationCompleted" and types.index("CallbackStarted") < len(types) - 1:
            return
        time.sleep(0.02)
    raise AssertionError(f"execution {arn} did not suspend on its callback within {timeout_s:.0f} s")
