"""SQS queues (AWS::SQS::Queue): created, or brought in step with the template's attributes."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from workshop.provision.intrinsics import _text, _truthy
from workshop.provision.resources import Clients, Outcome, _error_code


# CloudFormation AWS::SQS::Queue properties that are SQS queue attributes.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy", "SqsManagedSseEnabled",
    "VisibilityTimeout",
)  # fmt: skip
_JSON_QUEUE_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy")


def _queue_attribute(name: str, value: Any) -> str:
    if name in _JSON_QUEUE_ATTRIBUTES:
        return value if isinstance(value, str) else json.dumps(value)
    return _text(value)


def _same_queue_attribute(name: str, wanted: str, current: str | None) -> bool:
    if current is None:
        return False
    if name in _JSON_QUEUE_ATTRIBUTES:  # compare as data: 3 and "3" are the same
        try:
            return {k: str(v) for k, v in json.loads(wanted).items()} == {
                k: str(v) for k, v in json.loads(current).items()
            }
        except (ValueError, AttributeError):
            return False
    return wanted.lower() == current.lower()


def _queue(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    sqs = clients.sqs
    fifo = _truthy(props.get("FifoQueue", False))
    name = props.get("QueueName") or clients.local_name(logical_id) + (".fifo" if fifo else "")
    attributes = {key: _queue_attribute(key, props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if "NonExistentQueue" not in _error_code(error) and _error_code(error) != "QueueDoesNotExist":
            raise
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        status = "created"
    else:
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        changed = {
            key: value
            for key, value in attributes.items()
            if key != "FifoQueue" and not _same_queue_attribute(key, value, current.get(key))
        }
        if changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
        status = "updated" if changed else "exists"
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Outcome(status, name, url, {"Arn": arn, "QueueName": name, "QueueUrl": url})
