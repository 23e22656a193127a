"""Retry strategies for the saga's steps and invokes.

A retry in a durable function is not a sleep: the SDK checkpoints the failed
attempt, suspends, and the service re-invokes the handler when the delay is
over (the in-process test runner skips the delay). The strategies below are
plain callables ``(error, attempts_made) -> RetryDecision``, the type both
``StepConfig.retry_strategy`` and ``WithRetryConfig.retry_strategy`` take.

Delays have no jitter: the saga is a teaching reference and fixed delays make
the execution history easy to read. Add jitter in production
(``JitterStrategy.FULL``) when many executions may retry at the same moment.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_durable_execution_sdk_python.config import Duration, JitterStrategy
from aws_durable_execution_sdk_python.exceptions import StepInterruptedError
from aws_durable_execution_sdk_python.retries import (
    RetryDecision,
    RetryStrategyConfig,
    create_retry_strategy,
)

from _shared.retries import RetryStrategy
from _shared.retries import step_retry as shared_step_retry
from order_saga import settings
from order_saga.errors import PaymentTransientError, error_name


# Up to 5 charge attempts: 4 transient failures still end in a charge.
PAYMENT_MAX_ATTEMPTS = 5
_TRANSIENT_PAYMENT = PaymentTransientError.__name__


def transient_payment_retry(error: Exception, attempts_made: int) -> RetryDecision:
    """Retry a charge only when the payment function reported a transient error.

    The chained invoke fails with ``InvokeError`` whatever the payment function
    raised; the original class survives only as ``error_type``. A declined card
    is not retried (the saga handles it), nor is anything unexpected.
    """
    if attempts_made >= PAYMENT_MAX_ATTEMPTS:
        return RetryDecision.no_retry()
    if error_name(getattr(error, "error_type", None)) != _TRANSIENT_PAYMENT:
        return RetryDecision.no_retry()
    # 1 s, 2 s, 4 s, 8 s; the labs cap it at 1 s (settings.payment_retry_max_delay_s)
    return RetryDecision.retry(Duration.from_seconds(min(2 ** (attempts_made - 1), settings.payment_retry_max_delay_s())))


# Compensations must eventually succeed: retry any error, patiently.
compensation_retry: RetryStrategy = create_retry_strategy(
    RetryStrategyConfig(
        max_attempts=6,
        initial_delay=Duration.from_seconds(1),
        max_delay=Duration.from_seconds(60),
        backoff_rate=2,
        jitter_strategy=JitterStrategy.NONE,
    )
)

# Ordinary steps (read a parameter, hand an order to the warehouse): the shared few quick retries.
step_retry = shared_step_retry


def reservation_retry(error: Exception, attempts_made: int) -> RetryDecision:
    """Retry a failed reservation, but never one that was interrupted.

    The reservation step undoes its own partial work before it raises, so an
    ordinary failure is safe to retry. An *interrupted* attempt (the sandbox
    died mid-step) may have decremented some SKUs without undoing them; it
    runs with AT_MOST_ONCE_PER_RETRY semantics, so the SDK reports it as
    ``StepInterruptedError`` and this strategy stops there: the execution fails
    and an operator reconciles the stock, instead of reserving twice.
    """
    if isinstance(error, StepInterruptedError):
        return RetryDecision.no_retry()
    return step_retry(error, attempts_made)
