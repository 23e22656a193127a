"""A step that fails twice and succeeds on its third attempt.

Why: retries are checkpointed (StepFailed with RetryDetails, then a timer
before the next attempt), so the live runner must record every attempt, its
error and its delay as the SDK's own test runner does. The retry strategy is
a fixed 1 s delay with no jitter, so the delays are the same on every run.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.retries import RetryDecision

SUCCEEDS_ON_ATTEMPT = 3


class FlakyDependencyError(Exception):
    """What the step raises before its last attempt."""


def one_second_then_give_up(error: Exception, attempts_made: int) -> RetryDecision:
    """Retry after exactly 1 s, up to SUCCEEDS_ON_ATTEMPT attempts in all."""
    if attempts_made < SUCCEEDS_ON_ATTEMPT:
        return RetryDecision.retry(Duration.from_seconds(1))
    return RetryDecision.no_retry()


def flaky(step: StepContext) -> dict[str, int]:
    if step.attempt < SUCCEEDS_ON_ATTEMPT:
        raise FlakyDependencyError(f"attempt {step.attempt} failed")
    return {"succeeded_on_attempt": step.attempt}


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, int]:
    return context.step(flaky, name="flaky", config=StepConfig(retry_strategy=one_second_then_give_up))
