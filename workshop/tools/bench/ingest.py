"""Ingest throughput: 1,000 records through the live stack, with and without idempotency, and in-process.

The largest part of the bench: queues, event source mappings, the ledger
check and the in-process floor under DurableFunctionTestRunner with the
fakes, all of it about the ingest service and nothing else.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from workshop import registry as function_registry
from workshop.config import REPO_ROOT, StackConfig, boto3_client
from workshop.tools.bench.report import Report, _say, ratio

VARIANTS = REPO_ROOT / "workshop" / "tools" / "bench_variants"
INGEST_RECORDS = 1000
INGEST_DEADLINE_S = 240.0
INGEST_TABLES = {"LEDGER_TABLE": "ledger", "IDEMPOTENCY_TABLE": "idempotency", "REJECTIONS_TABLE": "rejections"}


def _queue_drained(sqs: Any, url: str) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return all(value == "0" for value in attributes.values())


def _drain(config: StackConfig, function: str, bodies: list[str], label: str) -> float:
    """Fill a new queue, map it to `function`, and time until the queue is empty."""
    from workshop.tools.ingest_tools import send_records

    sqs = boto3_client("sqs", config)
    # Long enough that no batch is delivered twice however slow the machine: both variants do the same work.
    url = sqs.create_queue(QueueName=f"bench-{label}-{uuid.uuid4().hex[:6]}", Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    send_records(config, bodies, url)
    template = template_mapping(config)
    mapping = {**template, "uuid": f"bench-{label}", "function": function, "queue_url": url, "queue_arn": arn}
    started = time.perf_counter()
    # the host starts a poller for the new mapping within a second
    function_registry.update(config, lambda registry: registry["event_source_mappings"].append(mapping))
    deadline = time.monotonic() + INGEST_DEADLINE_S
    while not _queue_drained(sqs, url):
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: the queue was not drained within {INGEST_DEADLINE_S:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def _ledger_writes(config: StackConfig, prefix: str) -> dict[str, int]:
    from workshop.tools.ingest_tools import resources

    dynamodb = boto3_client("dynamodb", config)
    writes = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=resources(config).ledger_table, ConsistentRead=True):
        for item in page["Items"]:
            if item["record_id"]["S"].startswith(prefix):
                writes[item["record_id"]["S"]] = int(item["writes"]["N"])
    return writes


def template_mapping(config: StackConfig) -> dict[str, Any]:
    return function_registry.mapping_of(config, "ingest")


def ingest_live(config: StackConfig, label: str, report: Report) -> tuple[float, list[str]]:
    """1,000 records through one variant's queue on the live stack: the seconds, and the bodies sent."""
    from workshop.tools.ingest_tools import make_workload

    function = f"bench-ingest-{label.replace('_', '-')}"
    function_registry.register_copy(config, function, str(VARIANTS / f"ingest_{label}"), "ingest", {})
    _drain(config, function, make_workload(20, duplicates=0, malformed=0).bodies, f"{label}-warm")  # workers started
    work = make_workload(INGEST_RECORDS, duplicates=0, malformed=0)
    seconds = _drain(config, function, work.bodies, label)
    writes = _ledger_writes(config, work.run_id + "-")
    if set(writes) != work.unique_record_ids:
        raise SystemExit(f"{label}: {len(writes)} of {INGEST_RECORDS} records reached the ledger")
    twice = sum(1 for n in writes.values() if n > 1)
    if twice:
        report.notes.append(f"ingest {label.replace('_', ' ')}: {twice} records were written more than once")
    batches = INGEST_RECORDS / int(template_mapping(config).get("batch_size", 10))
    pollers = int(template_mapping(config).get("max_concurrency", 2))
    report.notes.append(
        f"ingest {label.replace('_', ' ')}: {seconds:.1f} s, {batches:.0f} batches {pollers} at a time, "
        f"{seconds * pollers / batches:.2f} s per batch (one durable execution each)"
    )
    _say(f"  ingest {label}: {INGEST_RECORDS} records in {seconds:.1f} s")
    return seconds, work.bodies


def sqs_batches(bodies: list[str], batch_size: int) -> list[dict[str, Any]]:
    """The SQS events the poller would send for these bodies: batch_size records each, in order."""
    from workshop.tools.ingest_tools import sqs_event

    return [sqs_event(bodies[start : start + batch_size]) for start in range(0, len(bodies), batch_size)]


def ingest_in_process(events: list[dict[str, Any]]) -> float:
    """The service's handler on these SQS events, one execution each, under DurableFunctionTestRunner with the fakes.

    The floor for the live figure: the same batches with no HTTP, emulator,
    poller or worker process, one after another. Only the executions are
    timed, not building the fakes; the ledger must hold every record once.
    """
    from ingest.handler import lambda_handler

    from workshop.labs.harness.in_process import in_process

    # the log lines and EMF go to a sink, not the bench's output; so do the warnings ("No application metrics")
    with in_process(lambda_handler, {**INGEST_TABLES, "POWERTOOLS_TRACE_DISABLED": "true"}) as run:
        inputs = [json.dumps(event) for event in events]
        started = time.perf_counter()
        outcomes = [run.runner.run(input=payload, execution_timeout=60) for payload in inputs]
        seconds = time.perf_counter() - started
        fake = run.fake
    failed = [o for o in outcomes if o.status.name != "SUCCEEDED" or json.loads(o.result or "{}").get("batchItemFailures")]
    records = sum(len(event["Records"]) for event in events)
    posted = len(fake.dynamodb.items(INGEST_TABLES["LEDGER_TABLE"]))
    if failed or posted != records:
        raise SystemExit(f"ingest in-process: {len(failed)} of {len(events)} batches failed, {posted} of {records} records posted")
    return seconds


def bench_ingest(config: StackConfig, report: Report) -> None:
    from workshop.tools.ingest_tools import make_workload

    live_s, bodies = ingest_live(config, "with_idempotency", report)
    plain_s, _ = ingest_live(config, "without_idempotency", report)
    batch_size = int(template_mapping(config).get("batch_size", 10))
    ingest_in_process(sqs_batches(make_workload(20, duplicates=0, malformed=0).bodies, batch_size))  # warm-up: imports
    floor_s = ingest_in_process(sqs_batches(bodies, batch_size))
    rate = INGEST_RECORDS / live_s
    report.add(
        f"ingest throughput, {INGEST_RECORDS:,} records, idempotency on, live stack",
        f"{rate:.0f} records/s ({live_s:.1f} s)",
        f"{INGEST_RECORDS / floor_s:.0f} records/s in-process ({floor_s:.1f} s, the same batches one at a time)",
        f"{live_s / floor_s:.1f}x the time",
    )
    report.add(
        f"ingest, {INGEST_RECORDS:,} records, idempotency on ÷ off, both live",
        f"{rate:.0f} records/s",
        f"{INGEST_RECORDS / plain_s:.0f} records/s without idempotency",
        f"{live_s / plain_s:.2f}x the time",
    )
    report.figure("ingest_records_per_s", rate)
    report.figure("ingest_live_over_inprocess", ratio(live_s, floor_s))

