"""SQS event source mappings, as Lambda runs them.

Lambda's pollers receive up to BatchSize messages, invoke the function
synchronously with one event per batch, and delete what succeeded. With
ReportBatchItemFailures only the reported messages stay on the queue; a
function error (or an unreadable failure report) leaves the whole batch.
Counting receives and moving a message to the DLQ after maxReceiveCount is the
queue's job (the emulator's), exactly as on AWS.

Where this poller differs from AWS's, and why:

- A message that stays comes back after ``retry_delay_s`` (a second by
  default, ``WORKSHOP_ESM_RETRY_SECONDS``): the poller sets its visibility to
  that. On AWS it comes back when the queue's visibility timeout runs out.
  The queue's visibility timeout can then be as long as AWS needs it (longer
  than the whole execution: a message being processed is never delivered a
  second time) while a rejected message still reaches the DLQ in seconds.
- A batch in flight is written down under the state folder until it is
  settled; a host that stops mid-batch returns those messages when it starts
  again, instead of leaving them invisible for the whole visibility timeout.
- A received batch is invisible for LEASE_S (60 s), not the queue's visibility
  timeout (30 minutes in the template), and the poller renews that lease every
  LEASE_S / 2 while the function runs. A host that dies in a window no record
  covers (between the receive and the record, or while giving a batch back)
  loses the messages for a minute, not half an hour: the soak saw malformed
  messages held past its deadline that way, never reaching the DLQ. While the
  host lives, a message being processed is still never delivered twice.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Callable

from workshop.config import REGION

log = logging.getLogger("function_host.esm")

LEASE_S = 60  # seconds a received batch stays invisible unless the poller renews it (every LEASE_S / 2)


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


def _in_groups_of_ten(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """SQS batch calls take ten entries at most."""
    return [entries[start : start + 10] for start in range(0, len(entries), 10)]


class InFlightBatches:
    """Batches received and not yet settled: one small file each, so a host restart can return them.

    A file is written before the invoke and removed once the batch's messages
    are deleted or given back; what is left at start-up belonged to a host that
    stopped mid-batch.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def hold(self, queue_url: str, messages: list[dict[str, Any]]) -> Path:
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{uuid.uuid4().hex}.json"
        receipts = [m["ReceiptHandle"] for m in messages]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"queue_url": queue_url, "receipt_handles": receipts}), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @staticmethod
    def settle(path: Path) -> None:
        path.unlink(missing_ok=True)

    def give_back_all(self, sqs_client: Any, delay_s: int) -> int:
        """Return every batch a previous host left unsettled; how many messages were still held."""
        returned = 0
        for path in sorted(self._folder.glob("*.json")):
            try:
                batch = json.loads(path.read_text(encoding="utf-8"))
                returned += give_back(sqs_client, batch["queue_url"], batch["receipt_handles"], delay_s)
            except Exception as exc:  # noqa: BLE001 - one unreadable file must not keep the rest held
                log.warning("could not return the unsettled batch %s: %s", path.name, exc)
            self.settle(path)
        return returned


def give_back(sqs_client: Any, queue_url: str, receipt_handles: list[str], delay_s: int) -> int:
    """Make received messages visible again after `delay_s`; how many were still held.

    A handle that is no longer valid (the message was deleted, or received
    again since) is skipped: that message is not ours to return.
    """
    held = 0
    entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": delay_s} for i, handle in enumerate(receipt_handles)]
    for group in _in_groups_of_ten(entries):
        response = sqs_client.change_message_visibility_batch(QueueUrl=queue_url, Entries=group)
        held += len(response.get("Successful", []))
    return held


class Lease:
    """Keeps received messages invisible while their batch is processed: `lease_s` at a time, renewed at half of it.

    If the poller's process dies, the lease lapses within `lease_s` and the
    queue delivers the messages again (the function is idempotent per record).
    A renewal that fails is logged and tried again at the next half-lease.
    """

    def __init__(self, sqs_client: Any, queue_url: str, receipt_handles: list[str], lease_s: int) -> None:
        self._sqs, self._queue_url, self._handles, self._lease_s = sqs_client, queue_url, receipt_handles, lease_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="esm-lease", daemon=True)
        self.renewals = 0

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _renew(self) -> None:
        while not self._done.wait(self._lease_s / 2):
            try:
                give_back(self._sqs, self._queue_url, self._handles, self._lease_s)
                self.renewals += 1
            except Exception as exc:  # noqa: BLE001 - tried again at the next half-lease; the lease lapses otherwise
                log.warning("could not renew the lease of a batch of %d on %s: %s", len(self._handles), self._queue_url, exc)


class SqsPoller:
    """Polls one queue for one mapping and hands each batch to `invoke`."""

    def __init__(
        self,
        mapping: dict[str, Any],
        sqs_client: Any,
        invoke: Callable[[str, dict[str, Any]], tuple[bool, Any]],
        stop: threading.Event,
        in_flight: InFlightBatches,
        retry_delay_s: int = 1,
        lease_s: int = LEASE_S,
    ) -> None:
        self.mapping = mapping
        self._lease_s = lease_s
        self._sqs = sqs_client
        self._invoke = invoke  # (function name, event) -> (function_error?, result)
        self._stop = stop
        self._in_flight = in_flight
        self._retry_delay_s = retry_delay_s
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
        """Receive one batch, invoke, delete what succeeded, give the rest back. Returns the batch size."""
        queue_url = self.mapping["queue_url"]
        response = self._sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, int(self.mapping.get("batch_size", 10))),
            WaitTimeSeconds=1,
            VisibilityTimeout=self._lease_s,  # renewed by the Lease below while the function runs
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        held = self._in_flight.hold(queue_url, messages)
        kept = messages  # until the function's answer says otherwise: if anything fails, the batch comes back
        try:
            with Lease(self._sqs, queue_url, [m["ReceiptHandle"] for m in messages], self._lease_s):
                keep = self._invoke_batch(messages)
            if keep is not None:
                kept = [m for m in messages if m["MessageId"] in keep]
                for group in _in_groups_of_ten([m for m in messages if m["MessageId"] not in keep]):
                    self._sqs.delete_message_batch(
                        QueueUrl=queue_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(group)]
                    )
        finally:
            if kept:
                give_back(self._sqs, queue_url, [m["ReceiptHandle"] for m in kept], self._retry_delay_s)
            # Not reached when giving back failed: the next host start returns the batch instead.
            self._in_flight.settle(held)
        return len(messages)

    def _invoke_batch(self, messages: list[dict[str, Any]]) -> set[str] | None:
        """Invoke once for the batch: the message ids to keep on the queue; None = the whole batch."""
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
        return keep
