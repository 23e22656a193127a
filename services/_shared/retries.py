"""The retry strategy of an ordinary step (read a parameter, write a table, hand work on).

A few quick retries and no jitter, so the histories the labs read stay the same run after run.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_durable_execution_sdk_python.config import Duration, JitterStrategy
from aws_durable_execution_sdk_python.retries import RetryDecision, RetryStrategyConfig, create_retry_strategy

# What a step's retry_strategy is: (error, attempts made so far) -> retry or not, and when.
RetryStrategy = Callable[[Exception, int], RetryDecision]

step_retry: RetryStrategy = create_retry_strategy(
    RetryStrategyConfig(
        max_attempts=3,
        initial_delay=Duration.from_seconds(1),
        max_delay=Duration.from_seconds(10),
        backoff_rate=2,
        jitter_strategy=JitterStrategy.NONE,
    )
)
