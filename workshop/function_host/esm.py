"""SQS event source mappings, as Lambda runs them.

Lambda's pollers receive up to BatchSize messages, invoke the function
synchronously with one event per batch, and delete what succeeded. With
ReportBatchItemFailures only the reported messages stay on the queue; a
function error (or an unreadable failure report) leaves the whole batch,
which comes back after the visibility timeout. Counting receives and moving a
message to the DLQ after maxReceiveCount is the queue's job (the emulator's),
exactly as on AWS.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

from workshop.config import REGION

log = logging.getLogger("function_host.esm")


def sqs_event(records: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for one batch of received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in records
        ]
    }


def failed_message_ids(result: Any, batch_ids: set[str]) -> set[str] | None:
    """The messages to keep per a ReportBatchItemFailures response; None = keep the whole batch.

    As on AWS, a malformed report, or one naming a message not in the batch,
    fails the whole batch rather than guessing.
    """
    if result is None or result == {} or result == "":
        return set()
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            return None
        ids.add(identifier)
    return ids


class SqsPoller:
    """Polls one queue for one mapping and hands each batch to `invoke`."""

    def __init__(
        self,
        mapping: dict[str, Any],
        sqs_client: Any,
        invoke: Callable[[str, dict[str, Any]], tuple[bool, Any]],
        stop: threading.Event,
    ) -> None:
        self.mapping = mapping
        self._sqs = sqs_client
        self._invoke = invoke  # (function name, event) -> (function_error?, result)
        self._stop = stop
        self.threads = [
            threading.Thread(target=self._run, name=f"esm-{mapping['function']}-{i}", daemon=True)
            for i in range(int(mapping.get("max_concurrency", 2)))
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - a poller must outlive a bad batch or a restarting emulator
                log.warning("poller for %s: %s", self.mapping["function"], exc)
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch, invoke, delete what succeeded. Returns the batch size."""
        response = self._sqs.receive_message(
            QueueUrl=self.mapping["queue_url"],
            MaxNumberOfMessages=min(10, int(self.mapping.get("batch_size", 10))),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(messages, self.mapping["queue_arn"])
        function_error, result = self._invoke(self.mapping["function"], event)
        batch_ids = {m["MessageId"] for m in messages}
        if function_error:
            keep: set[str] | None = None
            log.info("%s failed on a batch of %d: all stay on the queue (%s)", self.mapping["function"], len(messages), json.dumps(result)[:300])
        elif self.mapping.get("report_batch_item_failures"):
            keep = failed_message_ids(result, batch_ids)
            if keep is None:
                log.warning("%s returned an unreadable batchItemFailures report: the whole batch stays", self.mapping["function"])
        else:
            keep = set()
        if keep is None:
            return len(messages)
        done = [m for m in messages if m["MessageId"] not in keep]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self.mapping["queue_url"],
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])],
            )
        return len(messages)
