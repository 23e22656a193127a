"""`make bench`: what the local stack costs, each figure beside its baseline from the same run.

Prints a table and writes it, with the machine it ran on, to docs/BENCHMARKS.md
(under version control) and between the bench markers of README.md, and the
figures alone to docs/benchmarks.json (a fixed shape, so a script can compare
two runs). Everything runs on a private stack (free ports on 127.0.0.1, a
temporary state folder), so a learner's own stack and files are left alone.
Not part of `make test`; about 6-8 minutes, the ingest runs, the labs, a
minute of waiting and the fresh clone's `make demo` the longest parts.

Figures:
- stack start to healthy, empty state (s);
- a durable API call (ListDurableExecutionsByFunction) through the function
  host, divided by the same call to the durable runner directly (p50 of 200
  each, warm clients): what the host's proxying adds;
- the order saga's happy path end to end on the live stack (a synchronous
  Invoke of order-saga:live), divided by the same handler under
  DurableFunctionTestRunner in-process (workshop.labs.run.run_in_process: the floor);
- ingest throughput for 1,000 records with Powertools Idempotency (the
  service's handler), its time divided by the same SQS batches run one by one
  in-process under DurableFunctionTestRunner with the in-memory fakes (the
  floor), and beside a benchmark-only variant without idempotency (see
  workshop/tools/bench_variants/) on the live stack;
- each lab's checks against its solution (workshop.labs.checks.run_checks),
  and its `make lab-N` end to end, warm (LAB_TARGET=solution on the private
  stack): the total, the shares of start-up, live run and checks, and the
  total divided by the checks alone;
- the stack's total RSS idle, after the whole run, and 60 s after the last
  workload (workshop.tools.measure's process-tree RSS; the host retires idle workers);
- `make demo` in a fresh clone of HEAD with the package cache warm.
"""

from __future__ import annotations

import argparse
import dataclasses
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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop import stack
from workshop import registry as function_registry
from workshop.config import REPO_ROOT, StackConfig, boto3_client, stack_env
from workshop.tools.measure import stack_rss_mb

if TYPE_CHECKING:
    from workshop.labs.model import Lab

BENCHMARKS_PATH = REPO_ROOT / "docs" / "BENCHMARKS.md"
BENCHMARKS_JSON_PATH = REPO_ROOT / "docs" / "benchmarks.json"
README_PATH = REPO_ROOT / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
VARIANTS = REPO_ROOT / "workshop" / "tools" / "bench_variants"
SAGA_RUNS = 5
API_CALLS = 200
API_WARMUP_CALLS = 10
INGEST_RECORDS = 1000
INGEST_DEADLINE_S = 240.0
INGEST_TABLES = {"LEDGER_TABLE": "ledger", "IDEMPOTENCY_TABLE": "idempotency", "REJECTIONS_TABLE": "rejections"}
LAB_RUN_DEADLINE_S = 300.0
SETTLE_S = 60.0
DEMO_DEADLINE_S = 420.0
SAGA_ORDER = {"customer_id": "c-bench", "items": [{"sku": "SKU-BOOK", "quantity": 1}], "amount": "9.99",
              "currency": "EUR", "simulate": {"warehouse": "confirm"}}  # fmt: skip

# The figures of docs/benchmarks.json, in its order, each with the decimals it is rounded to.
# A script compares two runs by these keys: add one here, never rename one.
FIGURE_DIGITS: dict[str, int] = {
    "host_call_over_runner_call": 2,
    "ingest_records_per_s": 1,
    "ingest_live_over_inprocess": 2,
    "saga_live_over_inprocess": 2,
    "lab_run_warm_s": 2,  # per lab: {"1": s, ...}
    "lab_checks_s": 2,  # per lab
    "rss_idle_mb": 1,
    "rss_after_mb": 1,
    "rss_after_60s_mb": 1,
    "stack_start_s": 2,
    "demo_fresh_clone_s": 1,
}
PER_LAB_FIGURES = ("lab_run_warm_s", "lab_checks_s")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def ratio(value: float, baseline: float) -> float | None:
    """value ÷ baseline (above 1: slower or bigger than the baseline); None without a baseline to divide by."""
    return value / baseline if baseline else None


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
    figures: dict[str, Any] = field(default_factory=dict)  # FIGURE_DIGITS keys; unset ones are null in the JSON

    def add(self, what: str, value: str, baseline: str = "", ratio: str = "") -> None:
        self.rows.append(Row(what, value, baseline, ratio))
        _say(f"  {what}: {value}" + (f" (baseline {baseline}, {ratio})" if baseline else ""))

    def figure(self, key: str, value: float | None, why: str = "", lab: int | None = None) -> None:
        """Record one figure for docs/benchmarks.json (with `lab`, that lab's entry of a per-lab figure).

        A figure that could not be measured is None, and the notes say why: a
        null in the JSON must never be a silent gap.
        """
        if key not in FIGURE_DIGITS or (lab is None) == (key in PER_LAB_FIGURES):
            raise KeyError(f"{key!r}{f' for lab {lab}' if lab is not None else ''} is not a figure of docs/benchmarks.json")
        if lab is None:
            self.figures[key] = value
        else:
            self.figures.setdefault(key, {})[str(lab)] = value
        if value is None:
            self.notes.append(f"{key}{f' (lab {lab})' if lab is not None else ''} is null: {why or 'not measured'}")

    def table(self) -> str:
        lines = ["| figure | value | baseline (same run) | ratio |", "| --- | ---: | ---: | ---: |"]
        lines += [f"| {r.what} | {r.value} | {r.baseline} | {r.ratio} |" for r in self.rows]
        return "\n".join(lines)


def _rounded(value: Any, digits: int) -> Any:
    if isinstance(value, dict):
        return {key: _rounded(item, digits) for key, item in value.items()}
    return None if value is None else round(float(value), digits)


def benchmarks_json(figures: dict[str, Any], facts: dict[str, str], commit: str) -> dict[str, Any]:
    """docs/benchmarks.json: every figure key present, in FIGURE_DIGITS order, rounded; null if not measured."""
    unknown = set(figures) - set(FIGURE_DIGITS)
    if unknown:
        raise KeyError(f"not figures of docs/benchmarks.json: {', '.join(sorted(unknown))}")
    return {
        "machine": dict(facts),
        "commit": commit,
        "figures": {key: _rounded(figures.get(key), digits) for key, digits in FIGURE_DIGITS.items()},
    }


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
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def head_commit() -> str:
    """The full sha of HEAD the figures were measured at ("?" outside a git checkout)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    return head or "?"


# --------------------------------------------------------- durable API calls
def _runner_lambda_client(config: StackConfig) -> Any:
    """A Lambda client on the durable runner itself: boto3_client's settings, only the endpoint differs."""
    return boto3_client("lambda", dataclasses.replace(config, function_host=config.runner_host, host_port=config.runner_port))


def _call_ms(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def bench_api_call(config: StackConfig, report: Report) -> None:
    """ListDurableExecutionsByFunction through the function host and to the runner directly.

    The host answers the durable APIs by forwarding them to the runner, so the
    difference is what the host adds to every call the SDK, the CLI and the
    labs make. The two are timed alternately, call by call, so that a noisy
    moment on the machine costs both sides alike.
    """
    clients = {"host": boto3_client("lambda", config), "runner": _runner_lambda_client(config)}
    counts = set()
    for client in clients.values():  # warm-up: connections open, endpoints and models loaded
        for _ in range(API_WARMUP_CALLS):
            response = client.list_durable_executions_by_function(FunctionName="ingest")
        counts.add(len(response.get("DurableExecutions", [])))
    if len(counts) != 1:
        raise SystemExit(f"the host and the runner list different executions of ingest: {sorted(counts)}")
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(API_CALLS):
        for name, client in clients.items():
            times[name].append(_call_ms(lambda client=client: client.list_durable_executions_by_function(FunctionName="ingest")))
    host, runner = statistics.median(times["host"]), statistics.median(times["runner"])
    report.add(
        f"durable API call through the function host (ListDurableExecutionsByFunction, p50 of {API_CALLS}, warm client)",
        f"{host:.2f} ms",
        f"{runner:.2f} ms to the runner directly",
        f"{host / runner:.2f}x",
    )
    report.figure("host_call_over_runner_call", ratio(host, runner))


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
    report.figure("saga_live_over_inprocess", ratio(live_s, floor_s))


# --------------------------------------------------------------------- ingest
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
    from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
    from _shared import clients
    from ingest.handler import lambda_handler

    from workshop.labs.capture import capture_log_lines
    from workshop.labs.run import _environment
    from workshop.testing.fakes import FakeAWS

    fake = FakeAWS()
    clients.use_factory(fake.client)
    try:
        # the log lines and EMF go to a sink, not the bench's output; replays warn "No application metrics"
        with _environment({**INGEST_TABLES, "POWERTOOLS_TRACE_DISABLED": "true"}), capture_log_lines(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner = DurableFunctionTestRunner(handler=lambda_handler, poll_interval=0.05)
            try:
                inputs = [json.dumps(event) for event in events]
                started = time.perf_counter()
                outcomes = [runner.run(input=payload, execution_timeout=60) for payload in inputs]
                seconds = time.perf_counter() - started
            finally:
                runner.close()
    finally:
        clients.use_factory(None)
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


# ----------------------------------------------------------------------- labs
def lab_shares(total_s: float, phases: dict[str, float]) -> dict[str, float]:
    """Shares of a `make lab-N` run: its live run, its checks, and start-up (the rest: Python
    start, imports, the header, `make up` finding the stack running and provisioning it)."""
    live, checks = phases.get("live", 0.0), phases.get("checks", 0.0)
    return {"start-up": max(total_s - live - checks, 0.0) / total_s, "live run": live / total_s, "checks": checks / total_s}


def lab_run_warm(lab: Lab, config: StackConfig) -> tuple[float, dict[str, float]]:
    """`make lab-N` as a learner runs it: the Makefile's command, a subprocess, timed from outside.

    Pointed at the private stack (already up, so warm) by its environment, and
    at the lab's solution by LAB_TARGET: the learner's handler.py, progress and
    stack are not touched. Its phase timings come back through WORKSHOP_LAB_TIMINGS.
    """
    from workshop.labs.__main__ import TIMINGS_ENV

    with tempfile.TemporaryDirectory(prefix="workshop-bench-lab-") as tmp:
        timings = Path(tmp) / "phases.json"
        env = {**os.environ, **stack_env(config), "WORKSHOP_STACK": config.mode, "LAB_TARGET": "solution", TIMINGS_ENV: str(timings)}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "workshop.labs", "run", str(lab.number)], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=LAB_RUN_DEADLINE_S)  # fmt: skip
        seconds = time.perf_counter() - started
        if done.returncode != 0 or not timings.exists():
            tail = " / ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-2:])  # a traceback's last line names it
            raise RuntimeError(f"`make lab-{lab.number}` exited with {done.returncode}: {tail}")
        return seconds, json.loads(timings.read_text())


def bench_lab_checks(lab: Lab, config: StackConfig, report: Report) -> float | None:
    """The lab's stage checks against its solution; their seconds (None if they did not run)."""
    from workshop.labs.checks import run_checks

    try:
        checks = run_checks(lab, "solution", config)
    except (SystemExit, Exception) as exc:  # noqa: BLE001 - a lab being written must not stop the bench
        report.add(f"lab {lab.number} ({lab.topic}) checks against the solution", "did not run")
        report.figure("lab_checks_s", None, f"the checks did not run: {str(getattr(exc, 'code', exc))[:200]}", lab=lab.number)
        return None
    passed = sum(1 for s in checks.stages.values() if s.passed)
    report.add(f"lab {lab.number} ({lab.topic}) checks against the solution", f"{checks.seconds:.1f} s ({passed}/{len(checks.stages)} stages pass)")
    report.figure("lab_checks_s", checks.seconds, lab=lab.number)
    return checks.seconds


def bench_lab_run(lab: Lab, config: StackConfig, report: Report, checks_s: float | None) -> None:
    """`make lab-N` end to end, warm; its checks alone (just measured) are the baseline."""
    what = f"lab {lab.number} ({lab.topic}) `make lab-{lab.number}` end to end, warm (solution)"
    try:
        total, phases = lab_run_warm(lab, config)
    except (subprocess.TimeoutExpired, RuntimeError) as exc:
        report.add(what, "failed")
        report.figure("lab_run_warm_s", None, str(exc)[:300], lab=lab.number)
        return
    shares = lab_shares(total, phases)
    report.add(
        what,
        f"{total:.1f} s: " + ", ".join(f"{name} {share:.0%}" for name, share in shares.items()),
        f"{checks_s:.1f} s its checks alone" if checks_s else "",
        f"{total / checks_s:.1f}x" if checks_s else "",
    )
    report.figure("lab_run_warm_s", total, lab=lab.number)


def bench_labs(config: StackConfig, report: Report) -> None:
    """Per lab, its checks, then its `make lab-N` while the checks' workers are still warm."""
    from workshop.labs.model import all_labs

    labs = all_labs()
    if not labs:
        report.notes.append("no lab exists yet")
    for lab in labs:
        checks_s = bench_lab_checks(lab, config, report)
        bench_lab_run(lab, config, report, checks_s)


# ------------------------------------------------------------------------ RSS
def bench_rss(config: StackConfig, report: Report, idle_mb: float) -> None:
    """The stack's RSS right after the last workload (warm workers kept), and SETTLE_S later.

    The host retires workers that stay idle; how soon is its business (the
    bench waits a fixed minute and reports what is left, whatever the setting).
    """
    after = sum(stack_rss_mb(config).values())
    report.add("stack RSS after the run (warm workers kept)", f"{after:.0f} MB", f"{idle_mb:.0f} MB idle", f"{after / idle_mb:.1f}x")
    _say(f"waiting {SETTLE_S:.0f} s with the stack idle...")
    time.sleep(SETTLE_S)
    settled = sum(stack_rss_mb(config).values())
    report.add(f"stack RSS {SETTLE_S:.0f} s after the run (the host retires idle workers)", f"{settled:.0f} MB", f"{idle_mb:.0f} MB idle", f"{settled / idle_mb:.1f}x")
    report.figure("rss_after_mb", after)
    report.figure("rss_after_60s_mb", settled)


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
            report.figure("demo_fresh_clone_s", None, "make demo failed in the clone (above)")
            return
        report.add("`make demo`, fresh clone, package cache warm (environments created, stack started, two orders)", f"{seconds:.0f} s")
        report.figure("demo_fresh_clone_s", seconds)


# ----------------------------------------------------------------------- main
def render(report: Report, facts: dict[str, str], commit: str, seconds: float) -> str:
    machine_line = ", ".join(f"{k}: {v}" for k, v in {**facts, "commit": commit[:7]}.items())
    notes = "".join(f"\n- {note}" for note in report.notes)
    return (
        f"Machine: {machine_line}. Whole bench: {seconds:.0f} s.\n\n{report.table()}\n"
        + (f"\nNotes:{notes}\n" if notes else "")
    )


PROFILE_HEADING = "## Where the time goes"  # hand-written from profiles: kept when the figures are rewritten


def kept_profile(page: str) -> str:
    """The hand-written profile section of docs/BENCHMARKS.md, from its heading to the end ("" if none)."""
    at = page.find("\n" + PROFILE_HEADING)
    return page[at:].rstrip() + "\n" if at >= 0 else ""


def write_results(text: str, figures: dict[str, Any]) -> None:
    BENCHMARKS_PATH.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_JSON_PATH.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    profile = kept_profile(BENCHMARKS_PATH.read_text(encoding="utf-8")) if BENCHMARKS_PATH.exists() else ""
    BENCHMARKS_PATH.write_text(
        "# Benchmarks\n\n"
        "Written by `make bench` (workshop/tools/bench.py); each figure is measured in the same run as its baseline,\n"
        "on a private stack on 127.0.0.1. Rerun it on your machine to compare. The figures alone, for a script\n"
        "comparing two runs, are in `docs/benchmarks.json` (a null says in the notes why it was not measured).\n\n"
        "- **durable API call**: `ListDurableExecutionsByFunction` through the function host (which forwards it)\n"
        "  against the same call to the durable runner directly; p50 of 200 each, timed alternately, warm clients.\n"
        "- **order saga**: a synchronous Invoke of `order-saga:live` (happy path, warm workers) against the same\n"
        "  handler under `DurableFunctionTestRunner` in-process with in-memory AWS fakes (the floor).\n"
        "- **ingest**: 1,000 unique records in a queue filled before its event source mapping starts, timed until\n"
        "  the queue is empty (batches of 10, two pollers, as the template's mapping). Against the floor: the same\n"
        "  SQS batches, one execution each, run one after another in-process under `DurableFunctionTestRunner`\n"
        "  with the fakes (ratio of times). Against idempotency off: a benchmark-only copy of the handler\n"
        "  without Powertools Idempotency (`workshop/tools/bench_variants/`), on the live stack the same way.\n"
        "- **labs**: each lab's stage checks against its solution, in a pytest subprocess; then its `make lab-N`\n"
        "  end to end (the Makefile's command with `LAB_TARGET=solution`, pointed at the bench's stack, which is\n"
        "  up: warm), split into start-up (Python, imports, `make up` finding the stack running), the live run\n"
        "  (execution, timeline, the lab's signal) and the checks; its baseline is the checks alone. Labs whose\n"
        "  checks read the live run back (1, 2, 3, 6) start them with it, so their checks share is what is left\n"
        "  of them once the live run is shown.\n"
        "- **stack RSS**: the stack's processes and the host's workers, idle after start, right after the last\n"
        "  workload, and 60 s later (the host retires workers that stay idle).\n"
        "- **make demo**: a `git clone` of HEAD, `make demo` there on other ports (virtual environments created\n"
        "  from the warm pip cache, stack started, two orders), then its `make down`.\n\n"
        "## Latest run\n\n" + text + profile,
        encoding="utf-8",
    )
    readme = README_PATH.read_text(encoding="utf-8")
    if README_START in readme and README_END in readme:
        head, rest = readme.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        README_PATH.write_text(f"{head}{README_START}\n{text}{README_END}{tail}", encoding="utf-8")


def run_on_private_stack(report: Report) -> None:
    """Every figure that needs the bench's own stack, which is stopped by pid whatever happens."""
    with tempfile.TemporaryDirectory(prefix="workshop-bench-") as state:
        config = stack.private_config(Path(state), mode="embedded")
        try:
            _say("stack start (empty state)...")
            started = time.perf_counter()
            stack.up(config, say=lambda line: None)
            start_s = time.perf_counter() - started
            report.add("stack start to healthy, empty state (incl. provisioning)", f"{start_s:.2f} s", "", "")
            report.figure("stack_start_s", start_s)
            time.sleep(1.0)  # let start-up allocations settle, as workshop.tools.measure does
            idle = sum(stack_rss_mb(config).values())
            report.figure("rss_idle_mb", idle)
            _say(f"durable API calls, through the host and to the runner ({API_CALLS} each)...")
            bench_api_call(config, report)
            _say("order saga, live and in-process...")
            bench_saga(config, report)
            _say(f"ingest, {INGEST_RECORDS} records with and without idempotency, and in-process...")
            bench_ingest(config, report)
            _say("labs: checks and `make lab-N` (solutions)...")
            bench_labs(config, report)
            bench_rss(config, report, idle)
        finally:
            stack.down(config, say=lambda line: None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--no-demo", action="store_true", help="skip the fresh clone's `make demo`")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md, docs/benchmarks.json and README.md alone")
    args = parser.parse_args(argv)
    services = str(REPO_ROOT / "services")
    if services not in sys.path:
        sys.path.insert(0, services)  # order_saga and ingest for the in-process floors
    for key in ("WORKSHOP_STATE_DIR", "WORKSHOP_EMULATOR_PORT", "WORKSHOP_RUNNER_PORT", "WORKSHOP_HOST_PORT", "WORKSHOP_XRAY_PORT"):
        os.environ.pop(key, None)  # the private stack's config is passed explicitly
    report = Report()
    bench_started = time.perf_counter()
    run_on_private_stack(report)
    if args.no_demo:
        report.figure("demo_fresh_clone_s", None, "skipped (--no-demo)")
    else:
        _say("make demo in a fresh clone...")
        bench_demo(report)
    facts, commit = machine(), head_commit()
    text = render(report, facts, commit, time.perf_counter() - bench_started)
    figures = benchmarks_json(report.figures, facts, commit)
    print(text)
    if not args.no_write:
        write_results(text, figures)
        print(f"written to {BENCHMARKS_PATH.relative_to(REPO_ROOT)}, {BENCHMARKS_JSON_PATH.relative_to(REPO_ROOT)} and README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
