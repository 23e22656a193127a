"""The bench's order of work: the private stack up, every measurement in turn, the stack down, the results out.

main() is here rather than in __main__.py so that it can be imported (the
package exports it) without running the bench.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from workshop import stack
from workshop.config import REPO_ROOT
from workshop.tools.bench.calls import API_CALLS, bench_api_call
from workshop.tools.bench.demo import bench_demo
from workshop.tools.bench.ingest import INGEST_RECORDS, bench_ingest
from workshop.tools.bench.labs import bench_labs
from workshop.tools.bench.machine import head_commit, machine
from workshop.tools.bench.report import BENCHMARKS_JSON_PATH, BENCHMARKS_PATH, Report, _say, benchmarks_json, render, write_results
from workshop.tools.bench.rss import bench_rss
from workshop.tools.bench.saga import bench_saga
from workshop.tools.measure import stack_rss_mb


PARTS = ("labs",)  # what --only can select: a part that is quick to rerun alone


def run_on_private_stack(report: Report, only: str | None = None) -> None:
    """Every figure that needs the bench's own stack (or only one part's), the stack stopped by pid whatever happens."""
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
            if only == "labs":
                _say("labs: live execution alone, checks alone and `make lab-N` (solutions)...")
                bench_labs(config, report)
                return
            _say(f"durable API calls, through the host and to the runner ({API_CALLS} each)...")
            bench_api_call(config, report)
            _say("order saga, live and in-process...")
            bench_saga(config, report)
            _say(f"ingest, {INGEST_RECORDS} records with and without idempotency, and in-process...")
            bench_ingest(config, report)
            _say("labs: live execution alone, checks alone and `make lab-N` (solutions)...")
            bench_labs(config, report)
            bench_rss(config, report, idle)
        finally:
            stack.down(config, say=lambda line: None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.tools.bench", description=sys.modules[__package__].__doc__.splitlines()[0])
    parser.add_argument("--no-demo", action="store_true", help="skip the fresh clone's `make demo`")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md, docs/benchmarks.json and README.md alone")
    parser.add_argument("--only", choices=PARTS, help="measure one part alone (prints it; writes nothing, the files hold whole runs)")
    args = parser.parse_args(argv)
    for key in ("WORKSHOP_STATE_DIR", "WORKSHOP_EMULATOR_PORT", "WORKSHOP_RUNNER_PORT", "WORKSHOP_HOST_PORT", "WORKSHOP_XRAY_PORT", "WORKSHOP_EXPLORER_PORT"):
        os.environ.pop(key, None)  # the private stack's config is passed explicitly
    report = Report()
    bench_started = time.perf_counter()
    run_on_private_stack(report, args.only)
    if args.only:
        print(render(report, machine(), head_commit(), time.perf_counter() - bench_started))
        return 0
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
        # imported here: `python -m workshop.tools.bench.docs_figures` must not find itself imported by the package
        from workshop.tools.bench.docs_figures import DocsFiguresError, load, write_docs

        try:  # the docs quote the json just written, never a typed figure
            rewritten = write_docs(load(BENCHMARKS_JSON_PATH))
        except DocsFiguresError as exc:  # the json is written: say what is left, do not lose the run
            print(f"the docs' figures were not rewritten: {exc}; fix it, then `make docs-figures`", file=sys.stderr)
            return 1
        print(f"their figures rewritten in {', '.join(rewritten) or 'no doc (already the same)'}")
    return 0
