"""The bench's results: the table's rows, the figures of docs/benchmarks.json, and where they are written.

Every measuring module fills one Report; this module owns its fixed JSON
shape (FIGURE_DIGITS), the printed text, and the rewrite of docs/BENCHMARKS.md
(keeping its hand-written profile section) and of README.md's bench markers,
so that nothing here needs a stack and the tests can check it alone.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from workshop.config import REPO_ROOT

BENCHMARKS_PATH = REPO_ROOT / "docs" / "BENCHMARKS.md"
BENCHMARKS_JSON_PATH = REPO_ROOT / "docs" / "benchmarks.json"
README_PATH = REPO_ROOT / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"

# The figures of docs/benchmarks.json, in its order, each with the decimals it is rounded to.
# A script compares two runs by these keys: add one here, never rename one.
FIGURE_DIGITS: dict[str, int] = {
    "host_call_over_runner_call": 2,
    "ingest_records_per_s": 1,
    "ingest_live_over_inprocess": 2,
    "saga_live_over_inprocess": 2,
    "lab_run_warm_s": 2,  # per lab: {"1": s, ...}
    "lab_checks_s": 2,  # per lab
    "lab_live_execution_s": 2,  # per lab: the solution's live execution alone, the labs' baseline
    "lab_run_phases_s": 2,  # per lab: {"start-up", "live run", "checks", "stack"} seconds of make lab-N
    "rss_idle_mb": 1,
    "rss_after_mb": 1,
    "rss_after_60s_mb": 1,
    "stack_start_s": 2,
    "demo_fresh_clone_s": 1,
}
PER_LAB_FIGURES = ("lab_run_warm_s", "lab_checks_s", "lab_live_execution_s", "lab_run_phases_s")


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
        "Written by `make bench` (workshop/tools/bench/); each figure is measured in the same run as its baseline,\n"
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
        "- **labs**: per lab, the baseline first: the solution's live execution alone (deployed, run and read back\n"
        "  by the bench's process: the invocations the lesson needs, nothing else). Then its stage checks alone\n"
        "  against the solution (a pytest subprocess and a live execution of their own), and its `make lab-N` end\n"
        "  to end (the Makefile's command with `LAB_TARGET=solution`, pointed at the bench's stack, which is up:\n"
        "  warm), in seconds per phase: start-up (Python, imports, `make up` finding the stack running: \"stack\"\n"
        "  in docs/benchmarks.json), the live run (execution, timeline, the lab's signal) and the checks. Labs\n"
        "  whose checks read the live run back (1, 2, 3, 5, 6) start them before the stack check, so their checks\n"
        "  phase is what is left of them once the live run is shown. `python -m workshop.tools.bench --only labs`\n"
        "  measures the labs alone (printed, not written).\n"
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
