"""`make bench`: what the local stack costs, each figure beside its baseline from the same run.

Prints a table and writes it, with the machine it ran on, to docs/BENCHMARKS.md
(under version control) and between the bench markers of README.md. Everything
runs on a private stack (free ports on 127.0.0.1, a temporary state folder),
so a learner's own stack is left alone. Not part of `make test`; about
3-6 minutes, most of it the fresh clone's `make demo`.

Figures:
- stack start to healthy, empty state (s); the stack's total RSS idle and
  after the whole run (workshop.measure's process-tree RSS);
- the order saga's happy path end to end on the live stack (a synchronous
  Invoke of order-saga:live), divided by the same handler under
  DurableFunctionTestRunner in-process (workshop.labs.run.run_in_process: the floor);
- ingest throughput for 1,000 records, with Powertools Idempotency (the
  service's handler) and without (a benchmark-only variant, see
  workshop/bench_variants/), each from its own pre-filled queue;
- each lab's checks against its solution (workshop.labs.checks.run_checks);
- `make demo` in a fresh clone of HEAD with the package cache warm.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workshop import stack
from workshop.config import REPO_ROOT, StackConfig, boto3_client, stack_env
from workshop.measure import stack_rss_mb

BENCHMARKS_PATH = REPO_ROOT / "docs" / "BENCHMARKS.md"
README_PATH = REPO_ROOT / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
VARIANTS = REPO_ROOT / "workshop" / "bench_variants"
SAGA_RUNS = 5
INGEST_RECORDS = 1000
INGEST_DEADLINE_S = 240.0
DEMO_DEADLINE_S = 420.0
SAGA_ORDER = {"customer_id": "c-bench", "items": [{"sku": "SKU-BOOK", "quantity": 1}], "amount": "9.99",
              "currency": "EUR", "simulate": {"warehouse": "confirm"}}  # fmt: skip


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Row:
    what: str
    value: str
    baseline: str = ""
    ratio: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, value: str, baseline: str = "", ratio: str = "") -> None:
        self.rows.append(Row(what, value, baseline, ratio))
        _say(f"  {what}: {value}" + (f" (baseline {baseline}, {ratio})" if baseline else ""))

    def table(self) -> str:
        lines = ["| figure | value | baseline (same run) | ratio |", "| --- | ---: | ---: | ---: |"]
        lines += [f"| {r.what} | {r.value} | {r.baseline} | {r.ratio} |" for r in self.rows]
        return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])  # type: ignore[index]
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, TypeError, ValueError):
        pass
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": head or "?",
    }


# ----------------------------------------------------------------- order saga
def saga_live(config: StackConfig) -> float:
    lam = boto3_client("lambda", config)
    payload = {**SAGA_ORDER, "order_id": f"bench-{uuid.uuid4().hex[:10]}"}
    started = time.perf_counter()
    response = lam.invoke(FunctionName="order-saga:live", Payload=json.dumps(payload).encode())
    seconds = time.perf_counter() - started
    body = json.loads(response["Payload"].read())
    if response.get("FunctionError") or body.get("status") != "COMPLETED":
        raise SystemExit(f"the benchmark order did not complete on the live stack: {body}")
    return seconds


def saga_in_process() -> float:
    from order_saga.handler import lambda_handler

    from workshop.labs.run import run_in_process

    started = time.perf_counter()
    order = {**SAGA_ORDER, "order_id": f"bench-{uuid.uuid4().hex[:10]}"}
    run = run_in_process(lambda_handler, order, env={"POWERTOOLS_TRACE_DISABLED": "true"})  # no X-Ray sink in-process
    seconds = time.perf_counter() - started
    if run.status != "SUCCEEDED" or (run.result or {}).get("status") != "COMPLETED":
        raise SystemExit(f"the benchmark order did not complete in-process: {run.status} {run.result} {run.error}")
    return seconds


def bench_saga(config: StackConfig, report: Report) -> None:
    saga_live(config), saga_in_process()  # warm-up: workers started, modules imported
    live = [saga_live(config) for _ in range(SAGA_RUNS)]
    floor = [saga_in_process() for _ in range(SAGA_RUNS)]
    live_s, floor_s = statistics.median(live), statistics.median(floor)
    report.add(
        f"order saga happy path end to end, live stack (median of {SAGA_RUNS}, warm)",
        f"{live_s:.2f} s",
        f"{floor_s:.2f} s in-process (DurableFunctionTestRunner)",
        f"{live_s / floor_s:.1f}x",
    )


# --------------------------------------------------------------------- ingest
def _queue_drained(sqs: Any, url: str) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return all(value == "0" for value in attributes.values())


def _drain(config: StackConfig, function: str, bodies: list[str], label: str) -> float:
    """Fill a new queue, map it to `function`, and time until the queue is empty."""
    from workshop.ingest_tools import send_records

    sqs = boto3_client("sqs", config)
    # Long enough that no batch is delivered twice however slow the machine: both variants do the same work.
    url = sqs.create_queue(QueueName=f"bench-{label}-{uuid.uuid4().hex[:6]}", Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    send_records(config, bodies, url)
    with open(config.registry_path.with_suffix(".lock"), "w") as lock:  # the lock register_function holds too
        fcntl.flock(lock, fcntl.LOCK_EX)
        registry = json.loads(config.registry_path.read_text())
        template = template_mapping(config)
        registry["event_source_mappings"].append({**template, "uuid": f"bench-{label}", "function": function, "queue_url": url, "queue_arn": arn})
        tmp = config.registry_path.with_suffix(".bench.tmp")
        tmp.write_text(json.dumps(registry, indent=2))
        started = time.perf_counter()
        os.replace(tmp, config.registry_path)  # the host starts a poller for the new mapping within a second
    deadline = time.monotonic() + INGEST_DEADLINE_S
    while not _queue_drained(sqs, url):
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: the queue was not drained within {INGEST_DEADLINE_S:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def _ledger_writes(config: StackConfig, prefix: str) -> dict[str, int]:
    from workshop.ingest_tools import resources

    dynamodb = boto3_client("dynamodb", config)
    writes = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=resources(config).ledger_table, ConsistentRead=True):
        for item in page["Items"]:
            if item["record_id"]["S"].startswith(prefix):
                writes[item["record_id"]["S"]] = int(item["writes"]["N"])
    return writes


def template_mapping(config: StackConfig) -> dict[str, Any]:
    registry = json.loads(config.registry_path.read_text())
    return next(m for m in registry["event_source_mappings"] if m["function"] == "ingest")


def bench_ingest(config: StackConfig, report: Report) -> None:
    from workshop.ingest_tools import make_workload
    from workshop.labs.run import register_function

    rates = {}
    for label in ("with_idempotency", "without_idempotency"):
        function = f"bench-ingest-{label.replace('_', '-')}"
        register_function(config, function, str(VARIANTS / f"ingest_{label}"), "ingest", {})
        _drain(config, function, make_workload(20, duplicates=0, malformed=0).bodies, f"{label}-warm")  # workers started
        work = make_workload(INGEST_RECORDS, duplicates=0, malformed=0)
        seconds = _drain(config, function, work.bodies, label)
        writes = _ledger_writes(config, work.run_id + "-")
        if set(writes) != work.unique_record_ids:
            raise SystemExit(f"{label}: {len(writes)} of {INGEST_RECORDS} records reached the ledger")
        twice = sum(1 for n in writes.values() if n > 1)
        if twice:
            report.notes.append(f"ingest {label.replace('_', ' ')}: {twice} records were written more than once")
        rates[label] = INGEST_RECORDS / seconds
        batches = INGEST_RECORDS / int(template_mapping(config).get("batch_size", 10))
        pollers = int(template_mapping(config).get("max_concurrency", 2))
        report.notes.append(
            f"ingest {label.replace('_', ' ')}: {seconds:.1f} s, {batches:.0f} batches {pollers} at a time, "
            f"{seconds * pollers / batches:.2f} s per batch (one durable execution each)"
        )
        _say(f"  ingest {label}: {INGEST_RECORDS} records in {seconds:.1f} s")
    report.add(
        f"ingest throughput, {INGEST_RECORDS:,} records, idempotency on",
        f"{rates['with_idempotency']:.0f} records/s",
        f"{rates['without_idempotency']:.0f} records/s without idempotency",
        f"{rates['with_idempotency'] / rates['without_idempotency']:.2f}x",
    )


# ----------------------------------------------------------------------- labs
def bench_labs(config: StackConfig, report: Report) -> None:
    from workshop.labs.checks import run_checks
    from workshop.labs.model import all_labs

    labs = all_labs()
    if not labs:
        report.notes.append("no lab exists yet")
    for lab in labs:
        try:
            checks = run_checks(lab, "solution", config)
        except (SystemExit, Exception) as exc:  # noqa: BLE001 - a lab being written must not stop the bench
            report.add(f"lab {lab.number} ({lab.topic}) checks against the solution", "did not run")
            report.notes.append(f"lab {lab.number}: {str(getattr(exc, 'code', exc))[:200]}")
            continue
        passed = sum(1 for s in checks.stages.values() if s.passed)
        report.add(f"lab {lab.number} ({lab.topic}) checks against the solution", f"{checks.seconds:.1f} s ({passed}/{len(checks.stages)} stages pass)")


# ----------------------------------------------------------------------- demo
def bench_demo(report: Report) -> None:
    """`make demo` in a fresh clone of HEAD on other ports; its stack stopped by its own `make down`."""
    with tempfile.TemporaryDirectory(prefix="workshop-bench-clone-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKSHOP_") and k not in ("VIRTUAL_ENV",)}
        # the clone's own state folder (.workshop/ in the clone), on free ports
        ports = stack_env(stack.private_config(clone / ".workshop"))
        ports.pop("WORKSHOP_STATE_DIR")
        env.update({**ports, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        make = ["make", "--no-print-directory", f"PYTHON={os.environ.get('PYTHON', 'python3')}"]
        started = time.perf_counter()
        try:
            demo = subprocess.run([*make, "demo"], cwd=clone, env=env, capture_output=True, text=True, timeout=DEMO_DEADLINE_S)
            seconds = time.perf_counter() - started
        except subprocess.TimeoutExpired:
            demo, seconds = None, None
        finally:
            subprocess.run([*make, "down"], cwd=clone, env=env, capture_output=True, text=True, timeout=120)
        if demo is None or demo.returncode != 0:
            tail = "\n".join(((demo.stdout + demo.stderr) if demo else "timed out").splitlines()[-15:])
            report.add("`make demo`, fresh clone, package cache warm", "failed")
            report.notes.append(f"make demo in the clone: {tail}")
            return
        report.add("`make demo`, fresh clone, package cache warm (environments created, stack started, two orders)", f"{seconds:.0f} s")


# ----------------------------------------------------------------------- main
def render(report: Report, facts: dict[str, str], seconds: float) -> str:
    machine_line = ", ".join(f"{k}: {v}" for k, v in facts.items())
    notes = "".join(f"\n- {note}" for note in report.notes)
    return (
        f"Machine: {machine_line}. Whole bench: {seconds:.0f} s.\n\n{report.table()}\n"
        + (f"\nNotes:{notes}\n" if notes else "")
    )


def write_results(text: str) -> None:
    BENCHMARKS_PATH.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_PATH.write_text(
        "# Benchmarks\n\n"
        "Written by `make bench` (workshop/bench.py); each figure is measured in the same run as its baseline,\n"
        "on a private stack on 127.0.0.1. Rerun it on your machine to compare.\n\n"
        "- **order saga**: a synchronous Invoke of `order-saga:live` (happy path, warm workers) against the same\n"
        "  handler under `DurableFunctionTestRunner` in-process with in-memory AWS fakes (the floor).\n"
        "- **ingest**: 1,000 unique records in a queue filled before its event source mapping starts, timed until\n"
        "  the queue is empty; the service's handler against a benchmark-only copy without Powertools Idempotency\n"
        "  (`workshop/bench_variants/`). Batches of 10, two pollers, as the template's mapping.\n"
        "- **labs**: each lab's stage checks against its solution, in a pytest subprocess.\n"
        "- **make demo**: a `git clone` of HEAD, `make demo` there on other ports (virtual environments created\n"
        "  from the warm pip cache, stack started, two orders), then its `make down`.\n\n"
        "## Latest run\n\n" + text,
        encoding="utf-8",
    )
    readme = README_PATH.read_text(encoding="utf-8")
    if README_START in readme and README_END in readme:
        head, rest = readme.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        README_PATH.write_text(f"{head}{README_START}\n{text}{README_END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--no-demo", action="store_true", help="skip the fresh clone's `make demo`")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md and README.md alone")
    args = parser.parse_args(argv)
    services = str(REPO_ROOT / "services")
    if services not in sys.path:
        sys.path.insert(0, services)  # order_saga for the in-process floor
    for key in ("WORKSHOP_STATE_DIR", "WORKSHOP_EMULATOR_PORT", "WORKSHOP_RUNNER_PORT", "WORKSHOP_HOST_PORT", "WORKSHOP_XRAY_PORT"):
        os.environ.pop(key, None)  # the private stack's config is passed explicitly
    report = Report()
    bench_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as state:
        config = stack.private_config(Path(state), mode="embedded")
        try:
            _say("stack start (empty state)...")
            started = time.perf_counter()
            stack.up(config, say=lambda line: None)
            report.add("stack start to healthy, empty state (incl. provisioning)", f"{time.perf_counter() - started:.2f} s", "", "")
            time.sleep(1.0)  # let start-up allocations settle, as workshop.measure does
            idle = sum(stack_rss_mb(config).values())
            _say("order saga, live and in-process...")
            bench_saga(config, report)
            _say(f"ingest, {INGEST_RECORDS} records with and without idempotency...")
            bench_ingest(config, report)
            _say("lab checks (solutions)...")
            bench_labs(config, report)
            after = sum(stack_rss_mb(config).values())
            report.add("stack RSS after the run (warm workers kept)", f"{after:.0f} MB", f"{idle:.0f} MB idle", f"{after / idle:.1f}x")
        finally:
            stack.down(config, say=lambda line: None)
    if not args.no_demo:
        _say("make demo in a fresh clone...")
        bench_demo(report)
    text = render(report, machine(), time.perf_counter() - bench_started)
    print(text)
    if not args.no_write:
        write_results(text)
        print(f"written to {BENCHMARKS_PATH.relative_to(REPO_ROOT)} and README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
