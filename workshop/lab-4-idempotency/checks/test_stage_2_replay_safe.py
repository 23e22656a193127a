"""Stage 2: idempotency inside the step: replay-safe, nothing keyed on the durable envelope, INPROGRESS expiring."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError
from workshop.labs.harness.ingest import LEDGER, ingest_queue, record, record_id

IN_PROCESS_REMAINING_MS = 900_000  # what the in-process Lambda context reports


def test_a_replayed_execution_completes_and_posts_once(lab_handler):
    """The first ledger write is throttled: the post step retries, i.e. the handler is replayed."""
    r1 = record("s2", 1)
    with ingest_queue(lab_handler.lambda_handler) as queue:
        real_update = queue.fake.dynamodb.update_item
        throttled: list[str] = []

        def throttle_once(**kwargs: Any) -> dict:
            if kwargs["TableName"] == LEDGER and not throttled:
                throttled.append(kwargs["Key"]["record_id"]["S"])
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem")
            return real_update(**kwargs)

        queue.fake.dynamodb.update_item = throttle_once  # type: ignore[method-assign]
        first = queue.deliver([r1], ["m-1"])
        text = first.error_text() or " ".join(str(e) for _, _, e in first.steps if e)
        assert first.status == "SUCCEEDED" and first.failures == [], (
            f"expected the execution to complete after its post step was retried (a replay); it ended "
            f"{first.status}, batchItemFailures {first.failures}: {text}"
            + (
                " — the replay found the INPROGRESS record its own first invocation left: a suspension unwinds "
                "through code around a step without Powertools cleaning up. Put the idempotent function INSIDE "
                "the step, around the write only."
                if "already in progress" in text.lower()
                else ""
            )
        )
        assert len(first.invocations) >= 2, f"expected the retry to replay the handler; it ran in {len(first.invocations)} invocation(s)"
        again = queue.deliver([r1], ["m-1-again"])
        writes = queue.writes()
        assert again.status == "SUCCEEDED" and writes == {record_id(r1): 1}, (
            f"expected writes = 1 after the replayed execution and a second delivery of {record_id(r1)}; saw "
            f"writes = {writes} (second delivery {again.status}{' ' + again.error_text() if again.error else ''})"
            + (" — the ledger write is not idempotent yet (stage 1)." if writes.get(record_id(r1), 0) > 1 else "")
        )


def _on_the_handler(key: str) -> bool:
    return ".lambda_handler#" in key


def test_nothing_is_keyed_on_the_durable_envelope(lab_handler):
    """@idempotent ABOVE @durable_execution (the Powertools page's example) hashes the durable envelope.

    Lambda invokes a durable function with the durable envelope
    (DurableExecutionArn, CheckpointToken, InitialExecutionState), and that is
    what a decorator above @durable_execution receives: a key new for every
    delivery (every invocation, even), so it never finds a duplicate, and it
    stores a record per invocation for nothing.
    """
    bodies, ids = [record("s2", 1), record("s2", 2)], ["m-1", "m-2"]
    with ingest_queue(lab_handler.lambda_handler) as queue:
        runs = [queue.deliver(bodies, ids), queue.deliver(bodies, ids, receive_count=2)]
        on_the_handler = sorted({item["id"]["S"] for item in queue.idempotency_puts() if _on_the_handler(item["id"]["S"])})
        assert not on_the_handler, (
            f"expected no idempotency record keyed on lambda_handler's event; the two deliveries of one batch "
            f"stored {len(on_the_handler)} ({', '.join(key.rsplit('.', 1)[-1][:28] for key in on_the_handler)}): "
            f"above @durable_execution, @idempotent hashes the durable invocation envelope (a new "
            f"DurableExecutionArn and CheckpointToken every time), so no delivery is ever a duplicate. "
            f"Remove it; the idempotency that works is around the ledger write, inside the post step."
        )
        assert all(run.status == "SUCCEEDED" for run in runs), (
            f"expected both deliveries to succeed; saw {[(run.status, run.error_text()) for run in runs]}"
        )


def test_an_in_progress_record_expires_with_the_invocation(lab_handler):
    """Powertools stores INPROGRESS before the write; a crash before COMPLETED leaves it behind."""
    with ingest_queue(lab_handler.lambda_handler) as queue:
        started_ms = time.time() * 1000
        queue.deliver([record("s2", 1)], ["m-1"])
        in_progress = [
            item
            for item in queue.idempotency_puts()
            if item.get("status", {}).get("S") == "INPROGRESS" and not _on_the_handler(item["id"]["S"])
        ]
        assert in_progress, (
            "expected Powertools to store an INPROGRESS record before the ledger write; saw none: the ledger "
            "write is not idempotent yet (stage 1; a record keyed on the handler's event does not count)."
        )
        expiry = in_progress[0].get("in_progress_expiration")
        assert expiry is not None, (
            "expected the INPROGRESS record to expire with the invocation (attribute in_progress_expiration); "
            "saw none: Powertools knows the invocation's deadline only from a registered Lambda context. "
            "If an invocation dies between the write and COMPLETED, that record stays INPROGRESS until the "
            "whole record expires (7 days): every retry and redelivery of the record fails with "
            "IdempotencyAlreadyInProgressError, and the message ends in the DLQ."
        )
        assert int(expiry["N"]) <= started_ms + IN_PROCESS_REMAINING_MS + 60_000, (
            f"expected in_progress_expiration within this invocation's remaining time; saw {expiry['N']}"
        )
