"""The SQS poller of the function host: what it deletes, what it gives back, and when.

A fake queue stands in for SQS: it records which receipt handles were deleted
and which were made visible again (and after how long), so each test checks
the poller's decision for one outcome of the function.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from workshop.host.esm import InFlightBatches, SqsPoller

QUEUE_URL = "http://127.0.0.1:4566/000000000000/q"
RETRY_S = 1


class FakeQueue:
    """Just enough of SQS for one poll: the messages to hand out, and what the poller did with them."""

    def __init__(self, count: int) -> None:
        self.messages = [
            {"MessageId": f"m-{n}", "ReceiptHandle": f"r-{n}", "Body": f'{{"n": {n}}}', "Attributes": {"ApproximateReceiveCount": "1"}}
            for n in range(count)
        ]
        self.deleted: list[str] = []
        self.given_back: dict[str, int] = {}
        self.valid_handles = {m["ReceiptHandle"] for m in self.messages}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        messages, self.messages = self.messages, []
        return {"Messages": messages}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        self.deleted.extend(entry["ReceiptHandle"] for entry in Entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        ok = [entry for entry in Entries if entry["ReceiptHandle"] in self.valid_handles]
        for entry in ok:
            self.given_back[entry["ReceiptHandle"]] = entry["VisibilityTimeout"]
        return {"Successful": [{"Id": e["Id"]} for e in ok], "Failed": [{"Id": e["Id"]} for e in Entries if e not in ok]}


def poller(queue: FakeQueue, invoke: Any, folder: Path) -> SqsPoller:
    mapping = {"function": "f", "queue_url": QUEUE_URL, "queue_arn": "arn:aws:sqs:us-east-1:000000000000:q",
               "batch_size": 10, "report_batch_item_failures": True}  # fmt: skip
    return SqsPoller(mapping, queue, invoke, threading.Event(), InFlightBatches(folder), RETRY_S)


def test_reported_failures_come_back_after_the_retry_delay_and_the_rest_is_deleted(tmp_path: Path) -> None:
    queue = FakeQueue(12)
    seen_in_flight: list[int] = []

    def invoke(name: str, event: dict[str, Any]) -> tuple[bool, Any]:
        seen_in_flight.append(len(list(tmp_path.glob("*.json"))))  # the batch is on record while it runs
        return False, {"batchItemFailures": [{"itemIdentifier": "m-3"}, {"itemIdentifier": "m-11"}]}

    assert poller(queue, invoke, tmp_path).poll_once() == 12
    assert queue.given_back == {"r-3": RETRY_S, "r-11": RETRY_S}
    assert sorted(queue.deleted) == sorted(f"r-{n}" for n in range(12) if n not in (3, 11))
    assert seen_in_flight == [1]
    assert list(tmp_path.glob("*")) == []  # settled


@pytest.mark.parametrize(
    "answer",
    [(True, {"errorType": "Sandbox.Timedout"}), (False, {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]})],
    ids=["function error", "unreadable report"],
)
def test_a_failed_batch_comes_back_whole_after_the_retry_delay(tmp_path: Path, answer: tuple[bool, Any]) -> None:
    queue = FakeQueue(3)
    assert poller(queue, lambda name, event: answer, tmp_path).poll_once() == 3
    assert queue.given_back == {"r-0": RETRY_S, "r-1": RETRY_S, "r-2": RETRY_S}
    assert queue.deleted == []
    assert list(tmp_path.glob("*")) == []


def test_a_batch_whose_invoke_cannot_be_made_comes_back_whole(tmp_path: Path) -> None:
    queue = FakeQueue(2)

    def invoke(name: str, event: dict[str, Any]) -> tuple[bool, Any]:
        raise ConnectionError("the durable runner is not reachable")

    with pytest.raises(ConnectionError):
        poller(queue, invoke, tmp_path).poll_once()
    assert queue.given_back == {"r-0": RETRY_S, "r-1": RETRY_S}
    assert queue.deleted == []


def test_a_batch_left_in_flight_by_a_stopped_host_is_given_back_at_the_next_start(tmp_path: Path) -> None:
    queue = FakeQueue(3)
    left = InFlightBatches(tmp_path)
    left.hold(QUEUE_URL, queue.messages)
    queue.valid_handles.discard("r-1")  # deleted, or received again, since: not ours to return

    assert InFlightBatches(tmp_path).give_back_all(queue, RETRY_S) == 2
    assert queue.given_back == {"r-0": RETRY_S, "r-2": RETRY_S}
    assert list(tmp_path.glob("*")) == []


class RenewalWatchingQueue(FakeQueue):
    """A FakeQueue that records how the batch was received and signals each lease renewal."""

    def __init__(self, count: int, lease_s: int) -> None:
        super().__init__(count)
        self.lease_s = lease_s
        self.received_with: dict[str, Any] = {}
        self.renewed = threading.Event()

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.received_with = kwargs
        return super().receive_message(**kwargs)

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        if all(entry["VisibilityTimeout"] == self.lease_s for entry in Entries):
            self.renewed.set()
        return super().change_message_visibility_batch(QueueUrl, Entries)


def test_a_batch_is_leased_not_hidden_for_the_queues_whole_visibility_timeout(tmp_path: Path) -> None:
    """A host that dies mid-batch must lose the messages for a lease, not for the queue's 30 minutes."""
    queue = RenewalWatchingQueue(3, lease_s=2)
    renewed_while_running: list[bool] = []

    def slow_invoke(function: str, event: dict[str, Any]) -> tuple[bool, Any]:
        renewed_while_running.append(queue.renewed.wait(timeout=10))  # runs past half a lease: renewed meanwhile
        return False, {"batchItemFailures": []}

    mapping = {"function": "f", "queue_url": QUEUE_URL, "queue_arn": "arn:aws:sqs:us-east-1:000000000000:q", "report_batch_item_failures": True}
    p = SqsPoller(mapping, queue, slow_invoke, threading.Event(), InFlightBatches(tmp_path), RETRY_S, lease_s=queue.lease_s)
    assert p.poll_once() == 3
    assert queue.received_with["VisibilityTimeout"] == 2
    assert renewed_while_running == [True], "the lease was not renewed while the function ran"
    assert sorted(queue.deleted) == ["r-0", "r-1", "r-2"]
