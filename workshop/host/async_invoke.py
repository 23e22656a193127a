"""Lambda's asynchronous invocation of a plain function: retries, then the dead-letter queue.

On AWS an ``InvocationType=Event`` invoke that fails is tried twice more
(about one and two minutes later), and an event that still fails goes to the
function's ``DeadLetterConfig`` target with the request id and the error in its
message attributes; without a target it is dropped. Locally the retries come
sooner (``RETRY_DELAYS_S``) so a learner sees the whole path within seconds.
Only SQS targets are delivered (the provisioner warns about any other).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from workshop.config import boto3_client
from workshop.host.errors import AwsError

if TYPE_CHECKING:
    from workshop.host.backend import FunctionHost

log = logging.getLogger("function_host")

RETRY_DELAYS_S = (1.0, 2.0)  # AWS: about 60 s and 120 s; MaximumRetryAttempts defaults to 2


def run_event(host: FunctionHost, name: str, qualifier: str | None, event: Any) -> None:
    """Run an Event invoke to its end: up to three attempts, then the DLQ (never raises: it runs in a thread)."""
    outcome = None
    for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S), start=1):
        if delay and host.stop_event.wait(delay):
            return  # the host is stopping; AWS would retry later, nothing local waits for it
        try:
            outcome = host.run_handler(name, qualifier, event)
        except AwsError as exc:
            log.warning("async invoke of %s, attempt %d: %s", name, attempt, exc)
            continue
        if not outcome.failed:
            return
        log.info("async invoke of %s failed on attempt %d: %s", name, attempt, (outcome.error or {}).get("errorType"))
    target = (host.registry.current()["functions"].get(name) or {}).get("dead_letter_arn")
    if not target:
        log.warning("async invoke of %s failed %d times and the function has no DeadLetterConfig: the event is dropped", name, 1 + len(RETRY_DELAYS_S))
        return
    error = (outcome.error if outcome else None) or {}
    sqs = boto3_client("sqs", host.config)
    try:
        queue_url = sqs.get_queue_url(QueueName=target.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": outcome.request_id if outcome else "-"},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": str(error.get("errorMessage", "unknown error"))[:1000]},
            },
        )
        log.info("async invoke of %s failed %d times: the event is in its dead-letter queue %s", name, 1 + len(RETRY_DELAYS_S), target)
    except Exception as exc:  # noqa: BLE001 - said, not raised: this is the event's last stop
        log.error("async invoke of %s: the event could not be sent to its dead-letter queue %s: %s", name, target, exc)
