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
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from workshop.labs.capture import InvocationLines, capture_log_lines, per_invocation
from workshop.testing.fakes import FakeAWS


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


@dataclass
class InProcess:
    """One in-process function environment: the fakes, the test runner, the lines each invocation printed."""

    fake: FakeAWS
    runner: Any  # DurableFunctionTestRunner
    lines: InvocationLines
    warnings: list[warnings.WarningMessage]

    def lines_since(self, first: int) -> list[list[str]]:
        """The lines of each invocation from invocation number `first` (0-based) on."""
        return [list(bucket) for bucket in self.lines.invocations[first:]]


@contextmanager
def in_process(
    handler: Callable[[Any, Any], Any],
    env: Mapping[str, str | None],
    poll_interval: float = 0.05,
    fake: FakeAWS | None = None,
) -> Iterator[InProcess]:
    """`handler` as a durable function on fresh fakes (empty tables), with `env` for the block.

    Every warning the handler raises is recorded (Powertools warns, e.g., when
    it finds no idempotency key); an invocation that raises is retried at once,
    as the runner skips retry back-offs. Async invokes the fakes started are
    joined before the runner closes.
    """
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
    from _shared import clients

    fake = fake or FakeAWS()
    clients.use_factory(fake.client)
    try:
        with environment(env), capture_log_lines() as sink, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            runner = DurableFunctionTestRunner(handler=per_invocation(handler, sink), poll_interval=poll_interval)
            # An invocation that raises (not a failed execution) is retried after 5 s, up to 5 times.
            runner._executor.RETRY_BACKOFF_SECONDS = 0
            fake.lambda_.runner = runner  # callbacks answered through the fake Lambda reach this runner
            try:
                yield InProcess(fake=fake, runner=runner, lines=sink, warnings=seen)
            finally:
                fake.lambda_.join()
                runner.close()
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
