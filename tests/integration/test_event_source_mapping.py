"""SQS event source mappings: batches, partial batch failures, and the DLQ.

The queue counts receives and moves a message to its DLQ after
maxReceiveCount (the emulator does that, as SQS does); the function host's
poller only invokes and deletes what succeeded. Both a plain and a durable
function are triggered: a durable one is started and awaited per batch, as
Lambda's pollers invoke synchronously.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.polling import wait_for
from workshop import registry as function_registry
from workshop.config import StackConfig, boto3_client

pytestmark = pytest.mark.live

BATCH_CODE = '''
import json, os
from aws_durable_execution_sdk_python import DurableContext, durable_execution

def _split(event):
    good, bad = [], []
    for record in event["Records"]:
        try:
            json.loads(record["body"])
            good.append(record["messageId"])
        except ValueError:
            bad.append(record["messageId"])
    return good, bad

def plain(event, context):
    good, bad = _split(event)
    with open(os.environ["SEEN_FILE"], "a") as seen:
        for message_id in good:
            seen.write(message_id + "\\n")
    return {"batchItemFailures": [{"itemIdentifier": m} for m in bad]}

@durable_execution
def durable(event, context: DurableContext):
    good, bad = context.step(lambda _: _split(event), name="validate-batch")
    def record(_):
        with open(os.environ["SEEN_FILE"], "a") as seen:
            for message_id in good:
                seen.write(message_id + "\\n")
    context.step(record, name="record-batch")
    return {"batchItemFailures": [{"itemIdentifier": m} for m in bad]}
'''


@pytest.mark.parametrize("handler", ["plain", "durable"])
def test_good_records_are_processed_once_and_bad_ones_reach_the_dlq(live_stack: StackConfig, tmp_path: Path, handler: str):
    sqs = boto3_client("sqs", live_stack)
    dlq_url = sqs.create_queue(QueueName=f"esm-{handler}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"esm-{handler}",
        # Longer than the function's execution timeout (60 s), as Lambda needs: a message that
        # became visible again mid-batch would be delivered twice. A rejected message still
        # comes back in a second: the poller gives it back (WORKSHOP_ESM_RETRY_SECONDS).
        Attributes={"VisibilityTimeout": "120", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    (tmp_path / "batch_fns.py").write_text(BATCH_CODE)
    seen_file = tmp_path / "seen.txt"
    seen_file.touch()
    name = f"test-batch-{handler}"

    def add_function_and_mapping(registry: dict[str, Any]) -> None:
        registry["functions"][name] = {
            "code_dir": str(tmp_path), "handler": f"batch_fns.{handler}", "runtime": "python3.13", "timeout": 10,
            "memory": 128, "environment": {"SEEN_FILE": str(seen_file)},
            "durable": {"ExecutionTimeout": 60, "RetentionPeriodInDays": 1} if handler == "durable" else None,
            "aliases": ["live"] if handler == "durable" else [], "log_group": f"/aws/lambda/{name}",
        }  # fmt: skip
        registry["event_source_mappings"].append(
            {"uuid": f"test-{handler}", "function": name, "queue_url": queue_url, "queue_arn": queue_arn, "batch_size": 5,
             "maximum_batching_window": 0, "report_batch_item_failures": True, "enabled": True}
        )  # fmt: skip

    function_registry.update(live_stack, add_function_and_mapping)

    good_ids = []
    for n in range(8):
        good_ids.append(sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": n}))["MessageId"])
    bad_id = sqs.send_message(QueueUrl=queue_url, MessageBody="this is not json")["MessageId"]

    def in_dlq():
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return [m for m in messages if m["MessageId"] == bad_id]

    dead = wait_for(in_dlq, "the malformed message to reach the DLQ")
    assert dead[0]["Body"] == "this is not json"
    seen = seen_file.read_text().split()
    assert sorted(seen) == sorted(good_ids)  # every good record exactly once, none lost
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
