"""The reliability checks of the SQS ingest service, on a live private stack.

200 messages go to the template's ingest queue: 20 % are exact duplicates of a
valid record (separate messages, same business record), 5 % are malformed.
The function host's poller delivers them in batches of up to 10, two batches
at a time, each batch one durable execution of `ingest:live`; duplicates land
in the same batch, in later batches, and in batches running at the same time.
Malformed messages are reported as batch item failures, given back to the
queue by the poller a second later (WORKSHOP_ESM_RETRY_SECONDS) and moved to
the DLQ by SQS after the third receive.

The second check slows every ledger write so that each batch runs longer than
a short visibility timeout would allow: no valid message may be delivered
again while its batch runs, let alone reach the DLQ.

Afterwards, and only then (polled against a deadline, no fixed sleep):

- the ledger holds exactly the valid unique records, each posted once (``writes`` = 1);
- the DLQ holds exactly the malformed messages, and the rejections table the
  reason for each of them;
- the queue is empty: nothing is lost, nothing is still in flight.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from workshop import registry as function_registry
from workshop.config import StackConfig, boto3_client
from workshop.tools.ingest_tools import IngestResources, Workload, make_workload, resources, send_records

pytestmark = pytest.mark.live

MESSAGES, DUPLICATES, MALFORMED = 200, 0.20, 0.05
DEADLINE_S = 120.0
# The slowed batches: ten posts of 1 s each take longer than the 5 s visibility
# timeout the local stack once had, which sent valid messages to the DLQ.
SLOW_POST_S, SHORT_VISIBILITY_S = 1.0, 5
SLOW_FUNCTION = "ingest-slow-posts"


def scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


@dataclass
class Settled:
    """What the queues and tables hold once a workload has gone through."""

    ledger: dict[str, int]  # record id -> writes
    dead: dict[str, str]  # message id -> body, read from the DLQ
    expected_dead: dict[str, str]
    rejections: dict[str, dict[str, Any]]
    executions: list[dict[str, Any]]  # of this workload: started while it was sent and settled
    left_on_queue: int
    duration_s: float


def send_and_settle(config: StackConfig, where: IngestResources, work: Workload, function: str) -> Settled:
    """Send the workload, wait until every malformed message is in the DLQ and the queue is empty."""
    sqs, dynamodb = boto3_client("sqs", config), boto3_client("dynamodb", config)
    started, since = time.monotonic(), datetime.now(UTC)
    message_ids = send_records(config, work.bodies, where.queue_url)
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

    sent = set(message_ids)

    def settled() -> bool:
        # Read the DLQ as it fills; a long visibility keeps what was read from being read again.
        # Only this workload's messages count: the DLQ is shared with the session's other tests.
        for message in sqs.receive_message(
            QueueUrl=where.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=600
        ).get("Messages", []):
            if message["MessageId"] in sent:
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

    executions = [
        row
        for page in boto3_client("lambda", config)
        .get_paginator("list_durable_executions_by_function")
        .paginate(FunctionName=function)
        for row in page.get("DurableExecutions", [])
        # The stack is the session's: other tests' executions (the fuzz tests' FAILED ones) are not this workload's.
        if row["StartTimestamp"] >= since
    ]
    return Settled(
        ledger=ledger_of_this_run(),
        dead=dead,
        expected_dead=expected_dead,
        rejections={item["message_id"]["S"]: item for item in scan(dynamodb, where.rejections_table)},
        executions=executions,
        left_on_queue=in_flight(),
        duration_s=duration,
    )


def summary(label: str, work: Workload, outcome: Settled) -> str:
    ledger = outcome.ledger
    return (
        f"\n{label}: {len(work.bodies)} messages sent ({len(work.unique_record_ids)} unique valid records, "
        f"{work.duplicates} exact duplicates, {len(outcome.expected_dead)} malformed) -> "
        f"ledger {len(ledger)} records, {sum(ledger.values())} writes, max writes per record "
        f"{max(ledger.values(), default=0)}; DLQ {len(outcome.dead)} messages; rejections recorded "
        f"{len(set(outcome.rejections) & set(outcome.dead))}; {len(outcome.executions)} durable executions; "
        f"{outcome.left_on_queue} left on the queue; settled in {outcome.duration_s:.1f} s"
    )


def assert_nothing_lost_nothing_twice(work: Workload, outcome: Settled, receives_before_the_dlq: int) -> None:
    # The ledger: exactly the valid unique records, each written once.
    assert set(outcome.ledger) == work.unique_record_ids
    assert set(outcome.ledger.values()) == {1}, {rid: n for rid, n in outcome.ledger.items() if n != 1}
    # The DLQ: exactly the malformed messages, unchanged, each with its reason on record.
    assert outcome.dead == outcome.expected_dead
    for message_id in outcome.dead:
        assert outcome.rejections[message_id]["reason"]["S"], message_id
        assert outcome.rejections[message_id]["receive_count"]["N"] == str(receives_before_the_dlq)
    # Nothing lost, nothing left.
    assert outcome.left_on_queue == 0
    not_succeeded = {row["DurableExecutionArn"]: row["Status"] for row in outcome.executions if row["Status"] != "SUCCEEDED"}
    assert not not_succeeded, f"executions not SUCCEEDED: {not_succeeded}"


def max_receive_count(sqs: Any, queue_url: str) -> int:
    policy = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    return int(json.loads(policy)["maxReceiveCount"])


def test_reliability_duplicates_post_once_and_malformed_reach_the_dlq(live_stack: StackConfig) -> None:
    where = resources(live_stack)
    work = make_workload(MESSAGES, duplicates=DUPLICATES, malformed=MALFORMED)
    outcome = send_and_settle(live_stack, where, work, "ingest")
    print(summary("ingest reliability", work, outcome))
    assert_nothing_lost_nothing_twice(work, outcome, max_receive_count(boto3_client("sqs", live_stack), where.queue_url))


def test_batches_slower_than_a_short_visibility_timeout_dead_letter_no_valid_message(live_stack: StackConfig) -> None:
    """Every batch runs longer than 5 s; the queue is configured as the template's ingest queue is."""
    sqs = boto3_client("sqs", live_stack)
    ingest = resources(live_stack)
    template_queue = sqs.get_queue_attributes(QueueUrl=ingest.queue_url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"])["Attributes"]
    receives = max_receive_count(sqs, ingest.queue_url)
    suffix = uuid.uuid4().hex[:6]
    dlq_url = sqs.create_queue(QueueName=f"slow-ingest-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"slow-ingest-{suffix}",
        Attributes={
            "VisibilityTimeout": template_queue["VisibilityTimeout"],
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(receives)}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    function_registry.register_copy(live_stack, SLOW_FUNCTION, str(Path(__file__).parent / "slow_ingest"), "ingest", {"POST_DELAY_S": str(SLOW_POST_S)})
    ingest_mapping = function_registry.mapping_of(live_stack, "ingest")

    def add_mapping(registry: dict[str, Any]) -> None:
        registry["event_source_mappings"].append(
            {**ingest_mapping, "uuid": f"test-{SLOW_FUNCTION}-{suffix}", "function": SLOW_FUNCTION, "queue_url": queue_url, "queue_arn": queue_arn}
        )

    function_registry.update(live_stack, add_mapping)

    where = IngestResources(queue_url, dlq_url, ingest.ledger_table, ingest.rejections_table, ingest.idempotency_table)
    work = make_workload(30, duplicates=0.2, malformed=0.1)  # 21 unique, 6 duplicates, 3 malformed: 3 batches
    outcome = send_and_settle(live_stack, where, work, SLOW_FUNCTION)
    durations = sorted((row["EndTimestamp"] - row["StartTimestamp"]).total_seconds() for row in outcome.executions if "EndTimestamp" in row)
    print(summary("slow batches", work, outcome) + f"; finished executions took {', '.join(f'{d:.1f}' for d in durations)} s")

    # The window was provoked: batches ran longer than a short visibility timeout would have covered.
    assert durations[-1] > SHORT_VISIBILITY_S, durations
    assert_nothing_lost_nothing_twice(work, outcome, receives)
