"""Stage 3: one bad record, for whatever reason, does not make the good records of its batch run again."""

from __future__ import annotations

from typing import Any

from ingest import enrichment
from workshop.labs.harness.ingest import IngestRun, ingest_queue, record, record_id

BAD = "this is not json"


def _batch() -> tuple[list[str], list[str]]:
    return [record("s3", 1), BAD, record("s3", 2)], ["m-1", "m-bad", "m-2"]


def _seen(delivery: IngestRun) -> str:
    if delivery.status != "SUCCEEDED":
        return f"the execution ended {delivery.status} ({delivery.error_text()})"
    return f"batchItemFailures {delivery.failures}"


def test_only_the_bad_message_is_reported(lab_handler):
    bodies, ids = _batch()
    with ingest_queue(lab_handler.lambda_handler) as queue:
        first = queue.deliver(bodies, ids)
        assert first.status == "SUCCEEDED" and first.failures == ["m-bad"], (
            f"expected the execution to succeed and report only m-bad in batchItemFailures; saw {_seen(first)}"
            + (
                ": a failed execution hands the whole batch back to SQS, m-1 and m-2 included "
                "(and after the 3rd receive, all three go to the DLQ)."
                if first.status != "SUCCEEDED"
                else ""
            )
        )
        writes = queue.writes()
        assert writes == {record_id(bodies[0]): 1, record_id(bodies[2]): 1}, (
            f"expected both good records posted once, the bad one not at all; saw writes = {writes}"
        )


def test_what_comes_back_does_not_post_the_good_records_again(lab_handler):
    """SQS delivers again what the execution hands back; those deliveries must not post m-1 or m-2 again."""
    bodies, ids = _batch()
    by_id = dict(zip(ids, bodies, strict=True))
    good = {record_id(bodies[0]), record_id(bodies[2])}
    with ingest_queue(lab_handler.lambda_handler) as queue:
        first = queue.deliver(bodies, ids)
        back = first.failures
        again = queue.deliver([by_id[m] for m in back], back, receive_count=2)
        reposted = sorted(good & set(again.posts()))
        writes = queue.writes()
        assert back == ["m-bad"] and not reposted, (
            f"expected SQS to deliver only m-bad again and nothing to run for the good records; saw {back} "
            f"delivered again ({_seen(first)}), the post step ran again for {reposted or 'none'} "
            f"(ledger writes = {writes})"
        )


def test_a_record_whose_handling_raises_comes_back_alone(lab_handler, monkeypatch):
    """Not only a bad body: any error while one record is handled must fail that record, not the batch.

    Here the enrich step of one record fails for good (a rate service down):
    nothing in the service's flow expects that. Powertools' Batch utility turns
    it into that record's batchItemFailure; a hand-written loop lets it fail
    the execution, and SQS returns the whole batch.
    """
    bodies, ids = [record("s3", 1), record("s3", 2), record("s3", 3)], ["m-1", "m-2", "m-3"]
    broken = record_id(bodies[1])
    real_enrich = enrichment.enrich

    def rate_service_down(entry: Any, message_id: str) -> dict[str, Any]:
        if entry.record_id == broken:
            raise RuntimeError("rate service down")
        return real_enrich(entry, message_id)

    monkeypatch.setattr(enrichment, "enrich", rate_service_down)
    with ingest_queue(lab_handler.lambda_handler) as queue:
        first = queue.deliver(bodies, ids)
        assert first.status == "SUCCEEDED" and first.failures == ["m-2"], (
            f"expected the execution to succeed and report only m-2 (its enrich step failed); saw {_seen(first)}"
            + (
                ": an error in one record failed the whole execution. Hand each record to Powertools' Batch "
                "utility: what one record raises becomes that record's batchItemFailure."
                if first.status != "SUCCEEDED"
                else ""
            )
        )
        assert queue.writes() == {record_id(bodies[0]): 1, record_id(bodies[2]): 1}, (
            f"expected m-1 and m-3 posted once and m-2 not at all; saw writes = {queue.writes()}"
        )
