"""Faults on a live private stack: a worker killed mid-step, the function host restarted mid-batch.

- A worker process (a child of the function host, found with psutil) is killed
  with SIGKILL while a step of a test-only durable function sleeps on a marker
  file. The invocation fails with Lambda's Runtime.ExitError, the runner
  invokes again, a fresh worker runs the step again, and the execution
  succeeds with its side effect written exactly once.
- The function host alone (workshop.stack.processes._stop / _start, the private stack's
  config) is restarted while the ingest service's SQS batches are in flight.
  Afterwards every record is in the ledger, each with ``writes`` = 1, and the
  queue is empty: nothing lost, nothing written twice.

The durable runner restarted while an execution waits on a timer, on a
callback, or runs a step is covered by test_runner_recovery.py; a handler
that never returns (Sandbox.Timedout, worker replaced) and a crashing handler
by test_function_host.py.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.integration.polling import wait_for
from workshop import stack, system
from workshop import registry as function_registry
from workshop.stack import processes
from workshop.config import StackConfig, boto3_client
from workshop.tools.ingest_tools import make_workload, resources, send_records

pytestmark = pytest.mark.live

KILL_CODE = '''
import os, time
from pathlib import Path
from aws_durable_execution_sdk_python import DurableContext, durable_execution


def _effect(markers):
    folder = Path(markers)
    attempt = len(list(folder.glob("attempt-*"))) + 1
    (folder / f"attempt-{attempt}").write_text(str(os.getpid()))
    if attempt == 1:
        while not (folder / "release").exists():  # the test kills this worker here
            time.sleep(0.05)
    with open(folder / "side-effect", "a") as effect:  # what must happen exactly once
        effect.write(f"attempt {attempt}\\n")
    return attempt


@durable_execution
def handler(event, context: DurableContext):
    attempt = context.step(lambda _: _effect(event["markers"]), name="effect")
    return {"attempt": attempt}
'''


def host_pid(config: StackConfig) -> int:
    service = next(s for s in stack.SERVICES if s.name == "function-host")
    pid = stack.running_pid(config, service)
    assert pid is not None, "the function host is not running"
    return pid


def worker_children(parent: int) -> dict[int, str]:
    """The function host's worker processes, asked of psutil: {pid: command line}."""
    found = {}
    for child in system.descendants(parent):
        try:
            if child.ppid() == parent and "workshop.host.sandbox" in (cmdline := " ".join(child.cmdline())):
                found[child.pid] = cmdline
        except psutil.Error:  # ended meanwhile
            continue
    return found


alive = system.alive


def test_worker_killed_mid_step_is_retried_and_its_side_effect_written_once(live_stack: StackConfig, tmp_path: Path) -> None:
    code_dir, markers = tmp_path / "code", tmp_path / "markers"
    code_dir.mkdir()
    markers.mkdir()
    (code_dir / "kill_fns.py").write_text(textwrap.dedent(KILL_CODE))
    killed_worker = {
        "code_dir": str(code_dir), "handler": "kill_fns.handler", "runtime": "python3.13", "timeout": 60, "memory": 128,
        "environment": {}, "durable": {"ExecutionTimeout": 120, "RetentionPeriodInDays": 1}, "aliases": ["live"],
        "log_group": "/aws/lambda/test-killed-worker",
    }  # fmt: skip
    function_registry.update(live_stack, lambda registry: registry["functions"].update({"test-killed-worker": killed_worker}))
    lam = boto3_client("lambda", live_stack)

    arn = lam.invoke(
        FunctionName="test-killed-worker:live", InvocationType="Event", Payload=json.dumps({"markers": str(markers)}).encode()
    )["DurableExecutionArn"]
    wait_for(lambda: (markers / "attempt-1").exists(), "the step's first attempt to start", 30)

    # The worker running the step: a child of the function host, and the pid the step wrote down.
    parent = host_pid(live_stack)
    step_pid = int((markers / "attempt-1").read_text())
    workers = worker_children(parent)
    assert step_pid in workers, f"pid {step_pid} is not a worker of the function host {parent}: {workers}"
    os.kill(step_pid, signal.SIGKILL)
    wait_for(lambda: not alive(step_pid), "the killed worker to be gone", 10)

    # The runner invokes again; a fresh worker runs the step again. Let that attempt finish.
    wait_for(lambda: (markers / "attempt-2").exists(), "the step to be retried in a new worker", 60)
    (markers / "release").write_text("")

    def ended() -> dict[str, Any] | None:
        detail = lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
        return detail if detail["Status"] != "RUNNING" else None

    detail = wait_for(ended, "the execution to end", 60)
    assert detail["Status"] == "SUCCEEDED", detail
    assert json.loads(detail["Result"]) == {"attempt": 2}
    assert (markers / "side-effect").read_text() == "attempt 2\n"  # written once, by the retry
    assert int((markers / "attempt-2").read_text()) != step_pid
    assert sorted(p.name for p in markers.glob("attempt-*")) == ["attempt-1", "attempt-2"]

    # The killed invocation is on record with Lambda's error, then the one that succeeded.
    query = urllib.parse.urlencode({"execution": arn})
    with urllib.request.urlopen(f"{live_stack.host_url}/_workshop/invocations?{query}", timeout=10) as response:
        index = json.loads(response.read())["Invocations"]
    errors = [entry["error_type"] for entry in sorted(index, key=lambda e: e["start"])]
    assert errors[0] == "Runtime.ExitError", errors
    assert errors[-1] is None, errors
    steps = [e for e in lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"] if e["EventType"] == "StepSucceeded"]
    assert len(steps) == 1


def scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


def dlq_bodies(sqs: Any, dlq_url: str, most: int = 1000) -> list[str]:
    """Every message body in the DLQ (each read once: hidden for a minute after it is read)."""
    bodies: list[str] = []
    while len(bodies) < most:
        batch = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60).get("Messages", [])
        if not batch:
            return bodies
        bodies.extend(m["Body"] for m in batch)
    return bodies


RESTART_MESSAGES = 120  # 12+ batches of 10, two at a time: several are in flight at any moment


def test_function_host_restarted_with_an_sqs_batch_in_flight_loses_nothing_and_writes_nothing_twice(live_stack: StackConfig) -> None:
    where = resources(live_stack)
    sqs, dynamodb = boto3_client("sqs", live_stack), boto3_client("dynamodb", live_stack)
    work = make_workload(RESTART_MESSAGES, duplicates=0.1, malformed=0.0)
    prefix = work.run_id + "-"

    def ledger() -> dict[str, int]:
        return {
            item["record_id"]["S"]: int(item["writes"]["N"])
            for item in scan(dynamodb, where.ledger_table)
            if item["record_id"]["S"].startswith(prefix)
        }

    def queue() -> dict[str, int]:
        attributes = sqs.get_queue_attributes(
            QueueUrl=where.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return {name: int(value) for name, value in attributes.items()}

    def in_queue() -> int:
        return sum(queue().values())

    send_records(live_stack, work.bodies, where.queue_url)
    # In flight: some records posted, not all, and messages received by the poller but not yet deleted.
    wait_for(lambda: ledger() and queue()["ApproximateNumberOfMessagesNotVisible"] > 0, "a batch to be half posted", 60, interval=0.05)
    in_flight_before = queue()["ApproximateNumberOfMessagesNotVisible"]
    posted_before = len(ledger())
    assert posted_before < len(work.unique_record_ids), "every record was posted before the restart: nothing was in flight"

    host = next(s for s in stack.SERVICES if s.name == "function-host")
    old_pid = stack.running_pid(live_stack, host)
    stopped = processes._stop(live_stack, host)
    assert stopped.startswith("stopped"), stopped
    restart_s = processes._start(live_stack, host)
    assert stack.running_pid(live_stack, host) not in (None, old_pid)

    # Unfinished batches were on record: the restarted host gives them back at once, and they are ingested again.
    wait_for(lambda: in_queue() == 0 and len(ledger()) == len(work.unique_record_ids), "every record to be posted after the restart", 120, interval=0.25)
    posted = ledger()
    print(
        f"\nhost restart mid-batch: {len(work.bodies)} messages ({len(work.unique_record_ids)} unique records), "
        f"{posted_before} posted and {in_flight_before} messages received but not deleted at the stop; host back in {restart_s:.2f} s; "
        f"afterwards {len(posted)} records, {sum(posted.values())} writes, queue empty"
    )
    assert set(posted) == work.unique_record_ids  # nothing lost
    assert set(posted.values()) == {1}, {rid: n for rid, n in posted.items() if n != 1}  # nothing written twice
    # Nothing dead-lettered: every message was valid (a batch redelivered while the first delivery
    # still ran, three times over, once sent valid messages to the DLQ here).
    assert [body for body in dlq_bodies(sqs, where.dlq_url) if work.run_id in body] == []
