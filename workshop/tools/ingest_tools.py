"""Traffic for the SQS ingest service: records to send, SQS events for unit tests, a sender.

Used by the unit tests (``sqs_event``), the live reliability check
(``make_workload``, ``send_records``, ``resources``) and, later, the labs on
the ingest service. Nothing here knows how the service works inside: it only
produces what producers and Lambda's poller would.

- ``make_workload(count, duplicates=0.2, malformed=0.05)``: message bodies in a
  shuffled send order; ``duplicates`` of them are exact copies of a valid
  record (separate messages, same business record), ``malformed`` are bodies
  the service must reject (not JSON, a missing field, a zero amount, an
  unknown currency, a time without a zone, ...). The rest are unique records.
- ``sqs_event(bodies)``: the event Lambda's SQS poller would send for them.
- ``send_records(config, bodies)``: SendMessageBatch to the ingest queue; the
  message ids, in order.
- ``resources(config)``: the queue, DLQ and table names of the running stack,
  read from the function registry (what the template gave the function).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from workshop import registry
from workshop.config import REGION, StackConfig, boto3_client

FUNCTION = "ingest"
CURRENCIES = ("EUR", "USD", "GBP", "CHF")

# Bodies the service must reject, one per kind of mistake; {n} keeps them distinct.
MALFORMED_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("not json", "this is not json #{n}"),
    ("missing amount", '{{"record_id": "{run}-bad-{n}", "account_id": "acc-1", "currency": "EUR", "occurred_at": "2026-11-01T10:00:00Z"}}'),
    ("zero amount", '{{"record_id": "{run}-bad-{n}", "account_id": "acc-1", "amount": "0", "currency": "EUR", "occurred_at": "2026-11-01T10:00:00Z"}}'),
    ("unknown currency", '{{"record_id": "{run}-bad-{n}", "account_id": "acc-1", "amount": "5.00", "currency": "XXX", "occurred_at": "2026-11-01T10:00:00Z"}}'),
    ("time without zone", '{{"record_id": "{run}-bad-{n}", "account_id": "acc-1", "amount": "5.00", "currency": "EUR", "occurred_at": "2026-11-01T10:00:00"}}'),
    ("three decimals", '{{"record_id": "{run}-bad-{n}", "account_id": "acc-1", "amount": "1.005", "currency": "EUR", "occurred_at": "2026-11-01T10:00:00Z"}}'),
    ("unknown field", '{{"record_id": "{run}-bad-{n}", "account_id": "acc-1", "amount": "5.00", "currency": "EUR", "occurred_at": "2026-11-01T10:00:00Z", "note": "x"}}'),
    ("json list", "[1, 2, {n}]"),
)  # fmt: skip


def valid_record(run_id: str, n: int, rng: random.Random | None = None) -> dict[str, Any]:
    """A valid business record; ``record_id`` is ``<run_id>-<n>``."""
    rng = rng or random.Random(n)
    cents = rng.randint(1, 2_000_000) * rng.choice((1, -1))
    return {
        "record_id": f"{run_id}-{n:05d}",
        "account_id": f"acc-{rng.randint(1, 20):03d}",
        "amount": f"{cents / 100:.2f}",
        "currency": rng.choice(CURRENCIES),
        "occurred_at": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
    }


@dataclass
class Workload:
    """What to send, and what the ledger and the DLQ must hold afterwards."""

    run_id: str
    bodies: list[str] = field(default_factory=list)
    unique_record_ids: set[str] = field(default_factory=set)
    malformed_bodies: list[str] = field(default_factory=list)
    duplicates: int = 0


def make_workload(
    count: int, duplicates: float = 0.2, malformed: float = 0.05, run_id: str | None = None, seed: int = 4
) -> Workload:
    """``count`` bodies: that share of exact duplicates and of malformed ones, shuffled."""
    rng = random.Random(seed)
    run_id = run_id or f"run-{uuid.uuid4().hex[:8]}"
    n_malformed = round(count * malformed)
    n_duplicates = round(count * duplicates)
    n_unique = count - n_malformed - n_duplicates
    if n_unique < 1:
        raise ValueError("nothing left for unique records: lower the shares")
    work = Workload(run_id=run_id, duplicates=n_duplicates)
    unique = [json.dumps(valid_record(run_id, n, rng)) for n in range(n_unique)]
    work.unique_record_ids = {json.loads(body)["record_id"] for body in unique}
    copies = [rng.choice(unique) for _ in range(n_duplicates)]
    work.malformed_bodies = [
        MALFORMED_TEMPLATES[n % len(MALFORMED_TEMPLATES)][1].format(run=run_id, n=n) for n in range(n_malformed)
    ]
    work.bodies = unique + copies + work.malformed_bodies
    rng.shuffle(work.bodies)
    return work


def sqs_event(
    bodies: list[str],
    receive_count: int = 1,
    message_ids: list[str] | None = None,
    queue_arn: str = f"arn:aws:sqs:{REGION}:000000000000:workshop-IngestQueue",
) -> dict[str, Any]:
    """The event Lambda's SQS poller sends for these message bodies (one batch)."""
    now_ms = str(int(time.time() * 1000))
    ids = message_ids or [str(uuid.uuid4()) for _ in bodies]
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": now_ms,
                    "SenderId": "AIDAWORKSHOP",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message_id, body in zip(ids, bodies, strict=True)
        ]
    }


@dataclass(frozen=True)
class IngestResources:
    queue_url: str
    dlq_url: str
    ledger_table: str
    rejections_table: str
    idempotency_table: str


def resources(config: StackConfig) -> IngestResources:
    """Where the running stack's ingest function reads from and writes to."""
    environment = registry.function(config, FUNCTION)["environment"]
    mapping = registry.mapping_of(config, FUNCTION)
    sqs = boto3_client("sqs", config)
    policy = sqs.get_queue_attributes(QueueUrl=mapping["queue_url"], AttributeNames=["RedrivePolicy"])["Attributes"]
    dlq_name = json.loads(policy["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[1]
    return IngestResources(
        queue_url=mapping["queue_url"],
        dlq_url=sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"],
        ledger_table=environment["LEDGER_TABLE"],
        rejections_table=environment["REJECTIONS_TABLE"],
        idempotency_table=environment["IDEMPOTENCY_TABLE"],
    )


def send_records(config: StackConfig, bodies: list[str], queue_url: str | None = None) -> list[str]:
    """Send each body as its own message (SendMessageBatch, 10 at a time); their ids, in order."""
    sqs = boto3_client("sqs", config)
    url = queue_url or resources(config).queue_url
    ids: list[str] = []
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        response = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        )
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused messages: {response['Failed']}")
        by_entry = {entry["Id"]: entry["MessageId"] for entry in response["Successful"]}
        ids.extend(by_entry[str(i)] for i in range(len(chunk)))
    return ids


def main(argv: list[str] | None = None) -> int:
    """``python -m workshop.tools.ingest_tools --count N [--duplicates P] [--malformed P]``: send to the local stack."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m workshop.tools.ingest_tools", description="Send business records to the local stack's ingest queue."
    )
    parser.add_argument("--count", type=int, default=20, help="messages to send (default 20)")
    parser.add_argument("--duplicates", type=float, default=0.0, help="share of exact duplicates, 0-1")
    parser.add_argument("--malformed", type=float, default=0.0, help="share of malformed bodies, 0-1")
    args = parser.parse_args(argv)
    config = StackConfig()
    work = make_workload(args.count, duplicates=args.duplicates, malformed=args.malformed)
    send_records(config, work.bodies)
    print(
        f"sent {len(work.bodies)} messages (run {work.run_id}): {len(work.unique_record_ids)} unique records, "
        f"{work.duplicates} duplicates, {len(work.malformed_bodies)} malformed"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
