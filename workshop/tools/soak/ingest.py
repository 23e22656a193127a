"""The ingest part of the soak: a large SQS workload under chaos, then the ledger, DLQ and stores checked.

The workload is workshop.tools.ingest_tools.make_workload's (exact duplicates
and malformed bodies, shuffled). What the soak adds is time: every duplicate
is sent again a random delay after its first copy, up to the profile's spread
(10 minutes in the full profile), so duplicates meet their originals in the
same batch, in a later one, and long after the first was posted. The runner's
clock is not scaled for this part (run.py says why). The invariants afterwards:

- lost: valid unique records missing from the ledger (or valid ones dead-lettered);
- duplicated: ledger records with ``writes`` != 1, or records not in the workload;
- stuck: executions still RUNNING, idempotency records still INPROGRESS,
  messages left on the queue, malformed ones neither in the DLQ nor with a reason.
"""

from __future__ import annotations

import heapq
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workshop.config import StackConfig, boto3_client
from workshop.tools.ingest_tools import make_workload, resources

def scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


@dataclass
class Sender:
    """Sends the bodies: first copies at once (in batches of 10), each later copy at its own time."""

    config: StackConfig
    queue_url: str
    schedule: list[tuple[float, int, str]]  # (seconds after start, order, body), a heap
    first_sent: dict[str, float] = field(default_factory=dict)  # body -> wall-clock time of its first send
    sent: int = 0
    message_bodies: dict[str, str] = field(default_factory=dict)  # message id -> body
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - reported by the soak, which fails on it
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()

    def _run(self) -> None:
        sqs = boto3_client("sqs", self.config)
        started = time.monotonic()
        while self.schedule:
            due = self.schedule[0][0] - (time.monotonic() - started)
            if due > 0:
                time.sleep(min(due, 0.5))
                continue
            chunk: list[str] = []
            while self.schedule and len(chunk) < 10 and self.schedule[0][0] <= time.monotonic() - started:
                chunk.append(heapq.heappop(self.schedule)[2])
            response = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)])
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused messages: {response['Failed']}")
            now = time.time()
            for entry in response["Successful"]:
                body = chunk[int(entry["Id"])]
                self.message_bodies[entry["MessageId"]] = body
                self.first_sent.setdefault(body, now)
            self.sent += len(chunk)


def build_schedule(bodies: list[str], spread_s: float, seed: int) -> list[tuple[float, int, str]]:
    """First copies at 0 (in the shuffled order); each repeat of a body spread_s or less after."""
    rng = random.Random(seed)
    seen: set[str] = set()
    schedule = []
    for order, body in enumerate(bodies):
        at = rng.uniform(0, spread_s) if body in seen else 0.0
        seen.add(body)
        schedule.append((at, order, body))
    heapq.heapify(schedule)
    return schedule


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def soak_ingest(config: StackConfig, messages: int, spread_s: float, chaos_factory: Any, deadline_s: float, say: Any) -> dict[str, Any]:
    """Send, let the chaos loop run until everything has settled, then check every invariant; the figures."""
    where = resources(config)
    sqs, dynamodb = boto3_client("sqs", config), boto3_client("dynamodb", config)
    work = make_workload(messages, duplicates=0.20, malformed=0.05, seed=14)
    prefix = work.run_id + "-"
    malformed = set(work.malformed_bodies)
    sender = Sender(config, where.queue_url, build_schedule(work.bodies, spread_s, seed=14))
    dead: dict[str, str] = {}

    def posted() -> int:
        return dynamodb.describe_table(TableName=where.ledger_table)["Table"].get("ItemCount", 0)

    def progress() -> float:  # the share of the valid records posted (the emulator counts items exactly)
        return posted() / max(1, len(work.unique_record_ids))

    def read_dlq() -> None:
        while batch := sqs.receive_message(QueueUrl=where.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=3600).get("Messages", []):
            dead.update({m["MessageId"]: m["Body"] for m in batch})

    started = time.monotonic()
    threading.Thread(target=sender.run, name="sender", daemon=True).start()
    with chaos_factory(progress) as chaos:
        while True:
            read_dlq()
            if sender.error:
                raise SystemExit(f"soak ingest: the sender failed: {sender.error}")
            if sender.done.is_set() and queue_depth(sqs, where.queue_url) == 0 and len(dead) >= len(work.malformed_bodies) and not chaos.missed():
                break
            if time.monotonic() - started > deadline_s:
                say(f"  ingest: not settled after {deadline_s:.0f} s ({sender.sent}/{len(work.bodies)} sent, {posted()} posted, "
                    f"{len(dead)}/{len(work.malformed_bodies)} dead-lettered, {queue_depth(sqs, where.queue_url)} on the queue)")  # fmt: skip
                break
            time.sleep(0.5)
    settled_s = time.monotonic() - started

    ledger = {i["record_id"]["S"]: i for i in scan(dynamodb, where.ledger_table) if i["record_id"]["S"].startswith(prefix)}
    writes = {rid: int(item["writes"]["N"]) for rid, item in ledger.items()}
    rejections = {i["message_id"]["S"]: i for i in scan(dynamodb, where.rejections_table)}
    in_progress = [i for i in scan(dynamodb, where.idempotency_table) if i.get("status", {}).get("S") == "INPROGRESS"]
    running = running_executions(config, "ingest")
    dead_valid = [body for body in dead.values() if body not in malformed]
    malformed_ids = {mid for mid, body in sender.message_bodies.items() if body in malformed}
    lost = len(work.unique_record_ids - set(writes)) + len(dead_valid)
    duplicated = sum(1 for n in writes.values() if n != 1) + len(set(writes) - work.unique_record_ids)
    no_reason = [mid for mid in malformed_ids if not rejections.get(mid, {}).get("reason", {}).get("S")]
    stuck = len(running) + len(in_progress) + queue_depth(sqs, where.queue_url) + len(malformed_ids - set(dead)) + len(no_reason)
    latencies = [
        datetime.fromisoformat(item["posted_at"]["S"]).timestamp() - sender.first_sent[body]
        for body in sender.first_sent
        if body not in malformed and (item := ledger.get(json.loads(body)["record_id"])) is not None
    ]
    return {
        "messages": len(work.bodies), "unique_records": len(work.unique_record_ids), "duplicates": work.duplicates,
        "malformed": len(work.malformed_bodies), "seconds": round(settled_s, 1),
        "messages_per_s": round(len(work.bodies) / settled_s, 1),
        "latency_p50_s": _round(percentile(latencies, 0.50)), "latency_p99_s": _round(percentile(latencies, 0.99)),
        "lost": lost, "duplicated": duplicated, "stuck": stuck,
        "detail": {
            "missing_from_ledger": len(work.unique_record_ids - set(writes)), "valid_in_dlq": len(dead_valid),
            "writes_not_1": sum(1 for n in writes.values() if n != 1), "running_executions": len(running),
            "idempotency_inprogress": len(in_progress), "left_on_queue": queue_depth(sqs, where.queue_url),
            "malformed_not_in_dlq": len(malformed_ids - set(dead)), "malformed_without_reason": len(no_reason),
        },
        "chaos": {"workers_killed": chaos.kills, "restarts_s": {k: round(v, 2) for k, v in chaos.restarts.items()},
                  "restarts_missed": chaos.missed(), "errors": chaos.errors},
    }  # fmt: skip


def running_executions(config: StackConfig, function: str) -> list[str]:
    lam = boto3_client("lambda", config)
    return [
        row["DurableExecutionArn"]
        for page in lam.get_paginator("list_durable_executions_by_function").paginate(FunctionName=function)
        for row in page.get("DurableExecutions", [])
        if row["Status"] == "RUNNING"
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
