"""The Powertools Logger, Tracer and Metrics of the approval service.

One instance of each, created at import (what Powertools recommends). The
durable-function rules, as in ``order_saga.observability``:

- log through ``context.logger`` after ``context.set_logger(logger)`` (and
  ``step.logger`` inside steps): a line is written once per execution, not
  once per replay;
- add metrics inside a step or after the last suspension, so each counts once
  per execution;
- annotate the execution ARN *outside* the durable handler (``annotate_execution``):
  inside it the X-Ray SDK's thread-local context holds only Lambda's facade segment.

Nothing here ever receives the notification secret: it is read and used inside
``notification.sign`` only.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

DEFAULT_SERVICE = "approval-wait"
DEFAULT_NAMESPACE = "Workshop"

SERVICE: str = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE, service=SERVICE)


def execution_arn_of(event: Any) -> str | None:
    """The durable execution ARN: Lambda sends an envelope dict, the test runner an object."""
    if isinstance(event, dict):
        return event.get("DurableExecutionArn")
    return getattr(event, "durable_execution_arn", None)


def annotate_execution(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Put ``execution_arn`` on the invocation's handler subsegment (goes above ``@durable_execution``)."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        arn = execution_arn_of(event)
        if arn:
            tracer.put_annotation(key="execution_arn", value=arn)
        return handler(event, context)

    return wrapper
