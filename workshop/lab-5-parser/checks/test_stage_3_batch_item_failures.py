"""Stage 3: malformed messages come back alone, with their reason on record; good ones post once.

In-process, SQS is played around the executions (harness.ingest.deliver_with_redrive): what an
execution hands back is delivered again, up to maxReceiveCount (3), then goes
to the DLQ. An execution that fails hands back the whole batch. On the stack,
one real execution of the lab's payload (good and malformed bodies, fresh ids
each run) is checked the same way.
"""

from __future__ import annotations


import pytest

from workshop.tools.ingest_tools import MALFORMED_TEMPLATES

from workshop.labs.harness.ingest import MAX_RECEIVE_COUNT, deliver_with_redrive, describe_error, ingest_queue, outcome, record

_MALFORMED = dict(MALFORMED_TEMPLATES)
MESSAGES = [
    ("m-1", record("t", 1)),
    ("m-zero", _MALFORMED["zero amount"].format(run="t", n=2)),
    ("m-3", record("t", 3)),
    ("m-not-json", _MALFORMED["not json"].format(run="t", n=4)),
]
GOOD = {"m-1": "t-00001", "m-3": "t-00003"}
BAD = ["m-zero", "m-not-json"]


def rejected_lines(run) -> list[dict]:
    return [r for records in run.log_records() for r in records if r.get("message") == "Record rejected"]


@pytest.fixture(scope="module")
def delivered(lab_handler):
    """The batch, delivered by SQS until nothing comes back or maxReceiveCount; then the tables."""
    with ingest_queue(lab_handler.lambda_handler) as ingest:
        delivery = deliver_with_redrive(ingest, MESSAGES)
        return delivery, ingest.ledger(), ingest.rejections()


def test_only_the_malformed_messages_come_back_and_reach_the_dlq(delivered):
    delivery, ledger, _ = delivered
    first = delivery.runs[0]
    failures = first.batch_item_failures()
    assert failures is not None and sorted(failures) == sorted(BAD), (
        f"expected the batch response to name exactly the malformed messages {BAD} as batchItemFailures; "
        f"saw {outcome(first)}"
        + (
            f" — with no batch response SQS delivers the whole batch again: after {MAX_RECEIVE_COUNT} receives "
            f"the DLQ holds {', '.join(delivery.dlq)}, the good records too"
            if failures is None
            else ""
        )
    )
    assert sorted(delivery.dlq) == sorted(BAD), (
        f"expected only the malformed messages {BAD} in the DLQ after {MAX_RECEIVE_COUNT} receives; "
        f"saw {sorted(delivery.dlq)} there"
    )
    assert ledger.keys() == set(GOOD.values()) and all(e["writes"] == 1 for e in ledger.values()), (
        f"expected the good records {sorted(GOOD.values())} in the ledger, each written once, and nothing "
        f"else; saw { {k: e['writes'] for k, e in ledger.items()} } (record id: writes)"
    )


def test_the_reason_is_findable_by_message_id(delivered):
    delivery, _, rejections = delivered

    for message_id in BAD:
        assert message_id in rejections and rejections[message_id]["reason"], (
            f"expected the reason for {message_id} in the rejections table (key message_id), as "
            f"service.reject(context, rejected) records it; saw {sorted(rejections) or 'no item'} there"
        )
        assert rejections[message_id]["receive_count"] == MAX_RECEIVE_COUNT, (
            f"expected the rejection of {message_id} to carry the last receive count ({MAX_RECEIVE_COUNT}); "
            f"saw {rejections[message_id]['receive_count']}"
        )
    assert "amount" in rejections["m-zero"]["reason"], (
        f"expected the reason to name the field that is wrong (amount); saw {rejections['m-zero']['reason']!r}"
    )
    logged = {(r.get("messageId"), r.get("reason")) for r in rejected_lines(delivery.runs[0])}
    for message_id in BAD:
        assert (message_id, rejections[message_id]["reason"]) in logged, (
            f"expected a \"Record rejected\" log line with messageId={message_id} and its reason; "
            f"saw {sorted(m for m, _ in logged) or 'no such line'}"
        )


@pytest.mark.live
def test_on_the_stack_only_the_malformed_messages_come_back(lab, live_run):
    from workshop.config import StackConfig, boto3_client
    from workshop.tools.ingest_tools import resources

    meta = lab.module
    failures = None
    if live_run.status == "SUCCEEDED" and isinstance(live_run.result, dict):
        failures = [f.get("itemIdentifier") for f in live_run.result.get("batchItemFailures", [])]
    assert failures is not None and sorted(failures) == sorted(meta.MALFORMED), (
        f"expected the live execution to succeed and name exactly the malformed messages as "
        f"batchItemFailures ({len(meta.MALFORMED)} of {len(meta.MESSAGES)}); saw {live_run.status}"
        + (f" ({describe_error(live_run.error)})" if live_run.error else f" with {live_run.result}")
    )
    config = StackConfig()
    where = resources(config)
    dynamodb = boto3_client("dynamodb", config)
    for message_id, record_id in meta.GOOD_RECORDS.items():
        item = dynamodb.get_item(TableName=where.ledger_table, Key={"record_id": {"S": record_id}}, ConsistentRead=True).get("Item")
        writes = int(item["writes"]["N"]) if item else 0
        assert writes == 1, f"expected the good record {record_id} ({message_id}) written once in the ledger; saw {writes} writes"
    for message_id in meta.MALFORMED:
        item = dynamodb.get_item(TableName=where.rejections_table, Key={"message_id": {"S": message_id}}, ConsistentRead=True).get("Item")
        assert item and item["reason"]["S"], f"expected the reason for {message_id} in the rejections table; saw no item"
    logged = {r.get("messageId") for records in live_run.log_records() for r in records if r.get("message") == "Record rejected"}
    assert logged >= set(meta.MALFORMED), (
        f"expected a \"Record rejected\" log line per malformed message; saw them for {sorted(logged) or 'none'}"
    )
