"""Each lab: its live execution alone (the floor), its checks alone, and its `make lab-N` end to end, warm, phase by phase."""

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
    return {name: seconds / total_s for name, seconds in lab_phases(total_s, phases).items()}


def lab_phases(total_s: float, phases: dict[str, float]) -> dict[str, float]:
    """Seconds of each phase of a `make lab-N` run (WORKSHOP_LAB_TIMINGS), start-up being what the phases leave.

    "stack" (make up finding it running, with the import check) is part of start-up.
    """
    live, checks = phases.get("live", 0.0), phases.get("checks", 0.0)
    return {"start-up": max(total_s - live - checks, 0.0), "live run": live, "checks": checks}


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


def lab_live_alone(lab: Lab, config: StackConfig) -> float:
    """The floor of `make lab-N`: the solution's live execution alone (deployed, started, waited for, read back).

    What the lesson needs (the invocations, the back-offs, the replays), with
    no Python start-up, no output and no checks: the bench's process does it.
    """
    from workshop.labs.harness.live import deploy

    function = deploy(lab, "solution", config)
    started = time.perf_counter()
    run = function.run(lab.payload)
    seconds = time.perf_counter() - started
    expected = getattr(lab.module, "EXPECTED_STATUS", "SUCCEEDED")
    if run.status != expected:
        raise RuntimeError(f"the solution's live execution ended {run.status}, not {expected}: {run.error}")
    return seconds


def bench_lab_live(lab: Lab, config: StackConfig, report: Report) -> float | None:
    """The lab's live execution alone, the baseline of its checks and of its `make lab-N`."""
    what = f"lab {lab.number} ({lab.topic}) live execution alone (solution: deploy, run, read back)"
    try:
        seconds = lab_live_alone(lab, config)
    except Exception as exc:  # noqa: BLE001 - a lab being written must not stop the bench
        report.add(what, "failed")
        report.figure("lab_live_execution_s", None, f"the live execution failed: {str(exc)[:200]}", lab=lab.number)
        return None
    report.add(what, f"{seconds:.1f} s")
    report.figure("lab_live_execution_s", seconds, lab=lab.number)
    return seconds


def _over(seconds: float, live_s: float | None) -> tuple[str, str]:
    """The baseline and ratio columns against the live execution alone."""
    if not live_s:
        return "", ""
    return f"{live_s:.1f} s its live execution alone", f"{seconds / live_s:.1f}x"


def bench_lab_checks(lab: Lab, config: StackConfig, report: Report, live_s: float | None = None) -> float | None:
    """The lab's stage checks alone against its solution (a live execution of their own); their seconds (None if they did not run)."""
    from workshop.labs.checks import run_checks

    try:
        checks = run_checks(lab, "solution", config)
    except (SystemExit, Exception) as exc:  # noqa: BLE001 - a lab being written must not stop the bench
        report.add(f"lab {lab.number} ({lab.topic}) checks alone against the solution", "did not run")
        report.figure("lab_checks_s", None, f"the checks did not run: {str(getattr(exc, 'code', exc))[:200]}", lab=lab.number)
        return None
    passed = sum(1 for s in checks.stages.values() if s.passed)
    report.add(f"lab {lab.number} ({lab.topic}) checks alone against the solution",
               f"{checks.seconds:.1f} s ({passed}/{len(checks.stages)} stages pass)", *_over(checks.seconds, live_s))  # fmt: skip
    report.figure("lab_checks_s", checks.seconds, lab=lab.number)
    return checks.seconds


def bench_lab_run(lab: Lab, config: StackConfig, report: Report, live_s: float | None = None) -> None:
    """`make lab-N` end to end, warm, with its phases in seconds; its live execution alone is the baseline."""
    what = f"lab {lab.number} ({lab.topic}) `make lab-{lab.number}` end to end, warm (solution)"
    try:
        total, phases = lab_run_warm(lab, config)
    except (subprocess.TimeoutExpired, RuntimeError) as exc:
        report.add(what, "failed")
        report.figure("lab_run_warm_s", None, str(exc)[:300], lab=lab.number)
        report.figure("lab_run_phases_s", None, "make lab-N failed (above)", lab=lab.number)
        return
    seconds = lab_phases(total, phases)
    report.add(what, f"{total:.1f} s: " + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()), *_over(total, live_s))
    report.figure("lab_run_warm_s", total, lab=lab.number)
    report.figure("lab_run_phases_s", {**seconds, "stack": phases.get("stack", 0.0)}, lab=lab.number)


def bench_labs(config: StackConfig, report: Report) -> None:
    """Per lab: its live execution alone (also warming the workers), its checks alone, then its `make lab-N`."""
    from workshop.labs.model import all_labs

    labs = all_labs()
    if not labs:
        report.notes.append("no lab exists yet")
    for lab in labs:
        live_s = bench_lab_live(lab, config, report)
        bench_lab_checks(lab, config, report, live_s)
        bench_lab_run(lab, config, report, live_s)
