"""The Powertools Logger, Tracer and Metrics shared by every module of the saga.

One instance of each, created at import, is what Powertools recommends: the
Logger keeps its keys and formatter, the Tracer its provider, and Metrics its
buffer between ``add_metric`` and the flush done by ``@metrics.log_metrics``.

The service name comes from POWERTOOLS_SERVICE_NAME (the template gives each
function its own: order-saga, payment, warehouse), with "order-saga" as the
default so the modules log under one name when nothing is configured (tests,
a REPL). Metrics default to the "Workshop" namespace the same way.

Durable-function rules that apply to these objects (see the Powertools page
"Durable Functions", and what the labs measure):

- Inside the durable handler, log through ``context.logger`` after
  ``context.set_logger(logger)``: it drops records while the SDK replays, so a
  line appears once per execution instead of once per invocation.
- The handler body re-runs after every suspension, so a metric added there
  would be counted once per invocation. Add metrics inside a step (a completed
  step never runs again) or after the last suspension (the code that builds
  the final result runs in exactly one invocation).
- Tracer segments are per invocation; annotate the execution ARN so the
  segments of one execution can be found together. Annotate *outside* the
  durable handler (``annotate_execution`` below): the SDK runs the handler
  body on a worker thread, where the X-Ray SDK's thread-local context holds
  only Lambda's facade segment, and ``tracer.put_annotation`` there raises
  FacadeSegmentMutationException and fails the execution (measured with the
  Tracer enabled in Lambda mode).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

from _shared.observability import execution_annotator, expect_invocations_without_metrics, execution_arn_of  # noqa: F401 - execution_arn_of: for the labs

DEFAULT_SERVICE = "order-saga"
DEFAULT_NAMESPACE = "Workshop"

SERVICE: str = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE

logger = Logger(service=SERVICE)
# Tracer disables itself outside Lambda and when POWERTOOLS_TRACE_DISABLED is
# true, so importing this module never needs an X-Ray daemon.
tracer = Tracer(service=SERVICE)
# Replays add no metric by design: the flush's warning about it is noise here (_shared.observability).
expect_invocations_without_metrics()
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE,
    service=SERVICE,
)


# The execution ARN on each invocation's handler subsegment (_shared.observability says why outside
# the durable handler): goes between @tracer.capture_lambda_handler and @durable_execution.
annotate_execution = execution_annotator(tracer)
