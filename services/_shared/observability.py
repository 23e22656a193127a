"""The execution ARN on each invocation's X-Ray handler subsegment, for any service's Tracer.

Annotate *outside* the durable handler: the SDK runs the handler body on a
worker thread, where the X-Ray SDK's thread-local context holds only Lambda's
facade segment, and ``tracer.put_annotation`` there raises
FacadeSegmentMutationException and fails the execution. Every invocation of
one execution (first run and replays) then carries the same ``execution_arn``
annotation, so one X-Ray query finds them all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Tracer

Handler = Callable[[Any, Any], Any]


def execution_arn_of(event: Any) -> str | None:
    """The durable execution ARN: Lambda sends an envelope dict, the in-process test runner an object."""
    if isinstance(event, dict):
        return event.get("DurableExecutionArn")
    return getattr(event, "durable_execution_arn", None)


def execution_annotator(tracer: Tracer) -> Callable[[Handler], Handler]:
    """A decorator that puts ``execution_arn`` on the handler subsegment of `tracer`.

    Goes between ``@tracer.capture_lambda_handler`` and ``@durable_execution``.
    """

    def annotate_execution(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            arn = execution_arn_of(event)
            if arn:
                tracer.put_annotation(key="execution_arn", value=arn)
            return handler(event, context)

        return wrapper

    return annotate_execution


def expect_invocations_without_metrics() -> None:
    """Silence Powertools' "No application metrics to publish" warning, and only that one.

    ``@metrics.log_metrics`` warns whenever an invocation flushes no metric. In a
    durable function that is the normal case, not a mistake: metrics are added
    where code runs once (inside a step, after the last suspension), so every
    invocation that replays and suspends again adds none, and the warning would
    be printed by most invocations of every execution. Each service's
    observability module calls this once at import (so does a lab handler that
    imports a service); lab 3's README explains the warning for handlers that
    do not.
    """
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
