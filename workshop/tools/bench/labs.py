"""Each lab's checks against its solution, and its `make lab-N` end to end, warm, with the shares of its phases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from workshop.config import REPO_ROOT, StackConfig, stack_env
from workshop.tools.bench.report import Report

if TYPE_CHECKING:
    from workshop.labs.model import Lab

LAB_RUN_DEADLINE_S = 300.0


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
