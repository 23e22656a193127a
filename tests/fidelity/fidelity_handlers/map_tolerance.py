"""map over four items, two at a time, one of which fails and is tolerated.

Why: map runs each item in its own child context (subtype MapIteration)
under one CONTEXT (subtype Map); with max_concurrency 2 and one tolerated
failure the batch completes, and the failed item's error is recorded.
The failing step does not retry, so no random back-off enters the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, MapConfig, StepConfig
from aws_durable_execution_sdk_python.retries import RetryDecision

ITEMS = [1, 2, 3, 4]
BAD_ITEM = 3


class BadItemError(Exception):
    """The item the map tolerates losing."""


def never_retry(error: Exception, attempts_made: int) -> RetryDecision:
    return RetryDecision.no_retry()


def double(context: DurableContext, item: int, index: int, items: Sequence[int]) -> int:
    def work(_: object) -> int:
        if item == BAD_ITEM:
            raise BadItemError(f"item {item} is bad")
        return item * 2

    return context.step(work, name="double", config=StepConfig(retry_strategy=never_retry))


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    config = MapConfig(
        max_concurrency=2,
        completion_config=CompletionConfig(tolerated_failure_count=1),
        item_namer=lambda item, index: f"item-{item}",
    )
    batch = context.map(ITEMS, double, name="doubles", config=config)
    return {"results": batch.get_results(), "failed": batch.failure_count, "reason": batch.completion_reason.value}
