"""parallel with three named branches, two at a time; one fails and is tolerated, one waits.

Why: parallel runs each branch in a child context (subtype ParallelBranch)
under one CONTEXT (subtype Parallel). A branch that waits suspends the whole
execution while the others finish; the failing branch's error must be kept
and the batch still complete within its failure tolerance.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CompletionConfig, Duration, ParallelBranch, ParallelConfig, StepConfig
from aws_durable_execution_sdk_python.retries import RetryDecision


class OutOfStockError(Exception):
    """The branch the parallel tolerates losing."""


def never_retry(error: Exception, attempts_made: int) -> RetryDecision:
    return RetryDecision.no_retry()


def flights(context: DurableContext) -> str:
    return context.step(lambda _: "LIS-OPO", name="book-flight")


def hotel(context: DurableContext) -> str:
    def book(_: object) -> str:
        raise OutOfStockError("no rooms left")

    return context.step(book, name="book-hotel", config=StepConfig(retry_strategy=never_retry))


def car(context: DurableContext) -> str:
    context.wait(Duration.from_seconds(1), name="car-queue")
    return context.step(lambda _: "compact", name="book-car")


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    branches = [ParallelBranch(flights, name="flights"), ParallelBranch(hotel, name="hotel"), ParallelBranch(car, name="car")]
    config = ParallelConfig(max_concurrency=2, completion_config=CompletionConfig(tolerated_failure_count=1))
    batch = context.parallel(branches, name="trip", config=config)
    return {"results": batch.get_results(), "failed": batch.failure_count, "reason": batch.completion_reason.value}
