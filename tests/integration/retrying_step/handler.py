"""A durable function whose one step fails its first attempt and succeeds on its retry, a 1 s back-off later.

The clock test (test_lab_clock_live.py) registers it twice, once with a time
scale and once without, to see a step-retry back-off fired early replayed by
the SDK (the step runs again and succeeds) and one at real time not.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.retries import JitterStrategy, RetryStrategyConfig, create_retry_strategy

ONE_RETRY_AFTER_1_S = create_retry_strategy(
    RetryStrategyConfig(max_attempts=2, initial_delay=Duration.from_seconds(1), jitter_strategy=JitterStrategy.NONE)
)


class FirstAttemptFails(Exception):
    """Raised by the first attempt, on purpose."""


def flaky(step_context: StepContext) -> dict[str, int]:
    if step_context.attempt <= 1:
        raise FirstAttemptFails("the first attempt fails on purpose")
    return {"attempt": step_context.attempt}


@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, int]:
    return context.step(flaky, name="flaky", config=StepConfig(retry_strategy=ONE_RETRY_AFTER_1_S))
