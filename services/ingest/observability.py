"""The Powertools Logger and Metrics of the ingest function.

Durable-function rules (the Powertools page "Durable Functions", and what the labs measure):

- Log through ``context.logger`` after ``context.set_logger(logger)``: it drops
  records while the SDK replays, so a rejection is logged once per execution
  (once per delivery), not once per invocation.
- Metrics are added after the last suspension (the end of the handler), so an
  execution that retried a step and ran in several invocations counts once.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

from _shared.observability import expect_invocations_without_metrics

DEFAULT_SERVICE = "ingest"

SERVICE: str = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE

logger = Logger(service=SERVICE)
# Replays add no metric by design: the flush's warning about it is noise here (_shared.observability).
expect_invocations_without_metrics()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Workshop", service=SERVICE)
