"""Run a lab's stage checks in a pytest subprocess and read back one result per stage."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from workshop.config import REPO_ROOT, StackConfig, stack_env
from workshop.labs.model import Lab


@dataclass
class StageResult:
    number: int
    passed: bool
    tests: int = 0
    failures: list[str] = field(default_factory=list)  # the first lines of each failure: expected / seen


@dataclass
class CheckRun:
    target: str
    stages: dict[int, StageResult]
    seconds: float
    output: str

    @property
    def all_passed(self) -> bool:
        return all(stage.passed for stage in self.stages.values())

    def first_failing(self) -> StageResult | None:
        return next((self.stages[n] for n in sorted(self.stages) if not self.stages[n].passed), None)


def _failure_text(element: ET.Element) -> str:
    """The learner-facing part of a failure: the assertion message, not pytest's introspection."""
    text = element.get("message") or element.text or ""
    text = text.removeprefix("AssertionError: ").removeprefix("Failed: ")
    lines = []
    for line in text.splitlines():
        if line.startswith("assert ") or line.startswith("+  ") or line.startswith("  +"):
            break
        if line.startswith("[+") and "more line" in line:  # pytest's note that it cut the report
            continue
        lines.append(line)
    return "\n".join(lines).strip() or text.strip()


LIVE_EXECUTION_ENV = "LAB_LIVE_EXECUTION"  # read by the live_run fixture (workshop.labs.pytest_plugin)


def run_checks(lab: Lab, target: str, config: StackConfig | None = None, live_execution: str | None = None) -> CheckRun:
    """The lab's stage checks against `target`, in a pytest subprocess.

    `live_execution`: the ARN of an execution of this target that just ran on
    the stack (make lab-N's own live run); the live checks read it back
    instead of starting another, which would wait out the same durable
    backoffs a second time.
    """
    config = config or StackConfig()
    env = {**os.environ, "LAB_TARGET": target, **stack_env(config)}
    env.pop(LIVE_EXECUTION_ENV, None)
    if live_execution:
        env[LIVE_EXECUTION_ENV] = live_execution
    with tempfile.TemporaryDirectory(prefix="lab-checks-") as tmp:
        report = Path(tmp) / "report.xml"
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", str(lab.path / "checks"), "-q", "-p", "no:cacheprovider",
             "-o", "junit_family=xunit1", f"--junitxml={report}", "-W", "ignore::DeprecationWarning"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.monotonic() - started
        stages = {number: StageResult(number=number, passed=True) for number in lab.stage_files()}
        if not report.exists():
            raise SystemExit(f"the checks of lab {lab.number} did not run:\n{completed.stdout}\n{completed.stderr}")
        for case in ET.parse(report).getroot().iter("testcase"):
            name = Path(case.get("file") or "").name
            number = next((n for n, p in lab.stage_files().items() if p.name == name), None)
            if number is None:
                continue
            stage = stages[number]
            stage.tests += 1
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is not None:
                stage.passed = False
                stage.failures.append(_failure_text(problem))
            elif case.find("skipped") is not None:
                stage.passed = False  # a skipped check proves nothing
                stage.failures.append("skipped: " + _failure_text(case.find("skipped")))
        for stage in stages.values():
            if stage.tests == 0:
                stage.passed = False
                stage.failures.append("no check ran for this stage")
    return CheckRun(target=target, stages=stages, seconds=seconds, output=completed.stdout + completed.stderr)
