"""The retry strategy of the posting step.

A retry in a durable function is a checkpoint, a suspension and a re-invoke
after the delay, not a sleep (the in-process test runner skips the delay).

What is retried, and why:

- ``IdempotencyAlreadyInProgressError``: another execution is posting the
  same record right now (two deliveries of one record in two concurrent
  batches). A second later it has finished, and the retry returns its stored
  result as a duplicate. Also the way out after a crash mid-post: the
  in-progress record expires with the crashed invocation's deadline (the
  function's 30-second timeout), which the delays below add up to.
- Anything else unexpected (throttling, a network error): retried the same way.
- ``IdempotencyValidationError`` is never retried: the record id was already
  posted with different business fields, and no retry can change that. The
  message is reported as failed and reaches the DLQ as a conflict.

When the attempts run out the step fails, the handler reports the message as a
batch item failure, and SQS delivers it again later (a new execution).
"""

from __future__ import annotations

from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.retries import RetryDecision
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

POST_MAX_ATTEMPTS = 6


def post_retry(error: Exception, attempts_made: int) -> RetryDecision:
    """1, 2, 4, 8, 16 s between six attempts (31 s in all); never for a conflicting duplicate."""
    if isinstance(error, IdempotencyValidationError) or attempts_made >= POST_MAX_ATTEMPTS:
        return RetryDecision.no_retry()
    return RetryDecision.retry(Duration.from_seconds(min(2 ** (attempts_made - 1), 16)))
