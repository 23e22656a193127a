"""`make bench`: what the local stack costs, each figure beside its baseline from the same run.

Prints a table and writes it, with the machine it ran on, to docs/BENCHMARKS.md
(under version control) and between the bench markers of README.md, and the
figures alone to docs/benchmarks.json (a fixed shape, so a script can compare
two runs); then docs_figures renders the measured figures other docs quote
(docs/INSTRUCTOR.md) from that json into their marked blocks. Everything runs
on a private stack (free ports on 127.0.0.1, a temporary state folder), so a
learner's own stack and files are left alone.
Not part of `make test`; about 6-8 minutes, the ingest runs, the labs, a
minute of waiting and the fresh clone's `make demo` the longest parts.

Figures:
- stack start to healthy, empty state (s);
- a durable API call (ListDurableExecutionsByFunction) through the function
  host, divided by the same call to the durable runner directly (p50 of 200
  each, warm clients): what the host's proxying adds;
- the order saga's happy path end to end on the live stack (a synchronous
  Invoke of order-saga:live), divided by the same handler under
  DurableFunctionTestRunner in-process (workshop.labs.harness.saga.run_saga: the floor);
- ingest throughput for 1,000 records with Powertools Idempotency (the
  service's handler), its time divided by the same SQS batches run one by one
  in-process under DurableFunctionTestRunner with the in-memory fakes (the
  floor), and beside a benchmark-only variant without idempotency (see
  workshop/tools/bench_variants/) on the live stack;
- per lab, the solution's live execution alone (the floor: the invocations
  the lesson needs), its checks alone against the solution
  (workshop.labs.checks.run_checks) and its `make lab-N` end to end, warm
  (LAB_TARGET=solution on the private stack), each divided by that floor,
  with the seconds of start-up, live run and checks (`--only labs`: this part
  alone, printed);
- the stack's total RSS idle, after the whole run, and 60 s after the last
  workload (workshop.tools.measure's process-tree RSS; the host retires idle workers);
- `make demo` in a fresh clone of HEAD with the package cache warm.
"""

from workshop.tools.bench.labs import lab_shares
from workshop.tools.bench.report import PROFILE_HEADING, Report, Row, benchmarks_json, kept_profile, ratio
from workshop.tools.bench.run import main

__all__ = ["PROFILE_HEADING", "Report", "Row", "benchmarks_json", "kept_profile", "lab_shares", "main", "ratio"]
