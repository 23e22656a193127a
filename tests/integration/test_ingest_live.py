"""The reliability check of the SQS ingest service, on a live private stack.

200 messages go to the template's ingest queue: 20 % are exact duplicates of a
valid record (separate messages, same business record), 5 % are malformed.
The function host's poller delivers them in batches of up to 10, two batches
at a time, each batch one durable execution of `ingest:live`; duplicates land
in the same batch, in later batches, and in batches running at the same time.
Malformed messages are reported as batch item failures, delivered again after
the queue's visibility timeout (5 s locally, infra/local-parameters.json) and
moved to the DLQ by SQS after the third receive.

Afterwards, and only then (polled against a deadline, no fixed sleep):

- the ledger holds exactly the valid unique records, each posted once (``writes`` = 1);
- the DLQ holds exactly the malformed messages, and the rejections table the
  reason for each of them;
- the queue is empty: nothing is lost, nothing is still in flight.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from workshop.config import StackConfig, boto3_client
from workshop.ingest_tools import make_workload, resources, send_records

pytestmark = pytest.mark.live

MESSAGES, DUPLICATES, MALFORMED = 200, 0.20, 0.05
DEADLINE_S = 120.0


def scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def test_reliability_duplicates_post_once_and_malformed_reach_the_dlq(live_stack: StackConfig) -> None:
    where = resources(live_stack)
    sqs, dynamodb = boto3_client("sqs", live_stack), boto3_client("dynamodb", live_stack)
    work = make_workload(MESSAGES, duplicates=DUPLICATES, malformed=MALFORMED)

    started = time.monotonic()
    message_ids = send_records(live_stack, work.bodies, where.queue_url)
    malformed = set(work.malformed_bodies)
    expected_dead = {mid: body for mid, body in zip(message_ids, work.bodies, strict=True) if body in malformed}

    dead: dict[str, str] = {}

    def ledger_of_this_run() -> dict[str, int]:
        return {
            item["record_id"]["S"]: int(item["writes"]["N"])
            for item in scan(dynamodb, where.ledger_table)
            if item["record_id"]["S"].startswith(work.run_id + "-")
        }

    def in_flight() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=where.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def settled() -> bool:
        # Read the DLQ as it fills; a long visibility keeps what was read from being read again.
        for message in sqs.receive_message(
            QueueUrl=where.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=600
        ).get("Messages", []):
            dead[message["MessageId"]] = message["Body"]
        return len(dead) >= len(expected_dead) and in_flight() == 0

    deadline = started + DEADLINE_S
    while not settled():
        if time.monotonic() > deadline:
            pytest.fail(
                f"not settled after {DEADLINE_S:.0f} s: {len(dead)}/{len(expected_dead)} in the DLQ, "
                f"{in_flight()} still on the queue, {len(ledger_of_this_run())}/{len(work.unique_record_ids)} posted"
            )
        time.sleep(0.25)
    duration = time.monotonic() - started

    ledger = ledger_of_this_run()
    rejections = {item["message_id"]["S"]: item for item in scan(dynamodb, where.rejections_table)}
    executions = [
        row
        for page in boto3_client("lambda", live_stack)
        .get_paginator("list_durable_executions_by_function")
        .paginate(FunctionName="ingest")
        for row in page.get("DurableExecutions", [])
    ]
    print(
        f"\ningest reliability: {MESSAGES} messages sent ({len(work.unique_record_ids)} unique valid records, "
        f"{work.duplicates} exact duplicates, {len(expected_dead)} malformed) -> "
        f"ledger {len(ledger)} records, {sum(ledger.values())} writes, max writes per record "
        f"{max(ledger.values(), default=0)}; DLQ {len(dead)} messages; rejections recorded "
        f"{len(set(rejections) & set(dead))}; {len(executions)} durable executions; "
        f"{in_flight()} left on the queue; settled in {duration:.1f} s"
    )

    # The ledger: exactly the valid unique records, each written once.
    assert set(ledger) == work.unique_record_ids
    assert set(ledger.values()) == {1}, {rid: n for rid, n in ledger.items() if n != 1}
    # The DLQ: exactly the malformed messages, unchanged, each with its reason on record.
    assert dead == expected_dead
    for message_id in dead:
        assert rejections[message_id]["reason"]["S"], message_id
        assert rejections[message_id]["receive_count"]["N"] == "3"
    # Nothing lost, nothing left.
    assert in_flight() == 0
    assert all(row["Status"] == "SUCCEEDED" for row in executions)
