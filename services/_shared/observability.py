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
