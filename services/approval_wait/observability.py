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

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

from _shared.observability import execution_annotator, expect_invocations_without_metrics, execution_arn_of  # noqa: F401 - execution_arn_of: for the labs

DEFAULT_SERVICE = "approval-wait"
DEFAULT_NAMESPACE = "Workshop"

SERVICE: str = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
# Replays add no metric by design: the flush's warning about it is noise here (_shared.observability).
expect_invocations_without_metrics()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE, service=SERVICE)


# The execution ARN on each invocation's handler subsegment (_shared.observability says why outside
# the durable handler): goes between @tracer.capture_lambda_handler and @durable_execution.
annotate_execution = execution_annotator(tracer)
