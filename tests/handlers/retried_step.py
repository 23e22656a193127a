"""A step that fails twice and succeeds on its third attempt, with a fixed 1 s back-off (no jitter).

Why a file of its own: the in-process shape tests call ``flaky`` with ``RETRY``
inside their own handler, and the live shape test deploys this module as a
function (handler ``retried_step.handler``), so both see the same retries.
It imports only the durable SDK: a function folder needs nothing else.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

RETRY = create_retry_strategy(RetryStrategyConfig(max_attempts=3, initial_delay=Duration.from_seconds(1), jitter_strategy=JitterStrategy.NONE))


def flaky(step: StepContext) -> int:
    if step.attempt < 3:
        raise RuntimeError(f"attempt {step.attempt} fails")
    return step.attempt


@durable_execution
def handler(event: Any, context: DurableContext) -> dict[str, int]:
    return {"succeeded_on": context.step(flaky, name="flaky", config=StepConfig(retry_strategy=RETRY))}
