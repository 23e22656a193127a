"""Stage 1: a record delivered twice (a redelivery, or a duplicate message) writes the ledger once."""

from __future__ import annotations

import pytest
from workshop.labs.harness.ingest import IngestQueue, IngestRun, ingest_queue, record, record_id


ENVELOPE = "the durable invocation envelope (DurableExecutionArn, CheckpointToken, InitialExecutionState)"


def _handler_level_note(queue: IngestQueue) -> str:
    keys = [item["id"]["S"] for item in queue.idempotency_puts()]
    per_record = [key for key in keys if ".lambda_handler#" not in key]
    if any(".lambda_handler#" in key for key in keys) and not per_record:
        return (
            f" — the only idempotency records are keyed on lambda_handler's event: above @durable_execution (the "
            f"Powertools page's order) that is {ENVELOPE}, new on every delivery, so no delivery was a duplicate. "
            f"Key on the business id, record_id, where the ledger is written."
        )
    if any("No idempotency key value found" in w for w in queue.warnings()):
        return (
            " — Powertools found no idempotency key in the event it was given and skipped idempotency: above "
            f"@durable_execution (the Powertools page's order) that event is {ENVELOPE}, not the SQS batch. "
            "Key on record_id, where the ledger is written."
        )
    if not keys:
        return " — nothing was written to the idempotency table: the ledger write is not idempotent yet."
    return (
        " — an idempotency record was written, but a duplicate did not find it: its key is not the "
        "record's business id (record_id), the same in every delivery, message and batch."
    )


def _expect_once(queue: IngestQueue, what: str, deliveries: list[IngestRun]) -> None:
    for number, delivery in enumerate(deliveries, start=1):
        assert delivery.status == "SUCCEEDED", (
            f"expected delivery {number} to succeed; its execution ended {delivery.status}: {delivery.error_text()}"
        )
    writes = queue.writes()
    twice = {rid: n for rid, n in writes.items() if n != 1}
    assert writes and not twice, (
        f"expected writes = 1 for every record after {what}; saw writes = {writes}" + _handler_level_note(queue)
    )


def test_the_same_batch_delivered_twice_writes_once(lab_handler):
    """A redelivery: the visibility timeout passed, or the poller lost the response."""
    bodies, ids = [record("s1", 1), record("s1", 2)], ["m-1", "m-2"]
    with ingest_queue(lab_handler.lambda_handler) as queue:
        first = queue.deliver(bodies, ids)
        again = queue.deliver(bodies, ids, receive_count=2)
        _expect_once(queue, "the same batch was delivered twice (two executions)", [first, again])


def test_the_same_record_in_another_message_and_batch_writes_once(lab_handler):
    """A producer sent the record twice: another message id, another batch, another execution."""
    r1, r3 = record("s1", 1), record("s1", 3)
    with ingest_queue(lab_handler.lambda_handler) as queue:
        first = queue.deliver([r1], ["m-1"])
        second = queue.deliver([r1, r3], ["m-1-again", "m-3"])
        _expect_once(queue, f"{record_id(r1)} came again in another message of another batch", [first, second])
        assert second.failures == [], (
            f"expected the duplicate message to leave the queue (no batchItemFailures); saw {second.failures}"
        )


@pytest.mark.live
def test_two_deliveries_on_the_stack_write_once(live_deliveries):
    """On the local stack: the same SQS-shaped event invoked twice, the ledger read from the emulator."""
    runs, writes = live_deliveries
    for number, run in enumerate(runs, start=1):
        assert run.status == "SUCCEEDED", f"expected live delivery {number} to succeed; it ended {run.status}: {run.error}"
    assert writes and set(writes.values()) == {1}, (
        f"expected writes = 1 in the stack's ledger table after two deliveries of the same batch; saw {writes}"
    )
