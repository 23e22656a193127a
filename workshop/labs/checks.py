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
CHECKS_DEADLINE_S = 600.0  # far above any lab's checks (under 10 s warm); a hung check is named, not waited on forever


class PendingChecks:
    """A lab's stage checks running in a pytest subprocess; result() waits for them and reads the report.

    Output goes to files, not pipes, so checks that print a lot never stall
    while make lab-N is still busy with the live run they overlap.
    """

    def __init__(self, lab: Lab, target: str, config: StackConfig, live_execution: str | None) -> None:
        self.lab, self.target = lab, target
        env = {**os.environ, "LAB_TARGET": target, **stack_env(config)}
        env.pop(LIVE_EXECUTION_ENV, None)
        if live_execution:
            env[LIVE_EXECUTION_ENV] = live_execution
        self._tmp = tempfile.TemporaryDirectory(prefix="lab-checks-")
        self._report = Path(self._tmp.name) / "report.xml"
        self._output = open(Path(self._tmp.name) / "output.txt", "w+", encoding="utf-8")  # noqa: SIM115 - closed in result()
        self._started = time.monotonic()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pytest", str(lab.path / "checks"), "-q", "-p", "no:cacheprovider",
             "-o", "junit_family=xunit1", f"--junitxml={self._report}", "-W", "ignore::DeprecationWarning"],
            cwd=REPO_ROOT, env=env, stdout=self._output, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def result(self, deadline_s: float = CHECKS_DEADLINE_S) -> CheckRun:
        try:
            try:
                self._process.wait(timeout=deadline_s)
            except subprocess.TimeoutExpired:
                self._process.kill()  # by the pid we started
                self._process.wait()
                raise SystemExit(f"the checks of lab {self.lab.number} did not end within {deadline_s:.0f} s; stopped them") from None
            seconds = time.monotonic() - self._started
            self._output.seek(0)
            output = self._output.read()
            if not self._report.exists():
                raise SystemExit(f"the checks of lab {self.lab.number} did not run:\n{output}")
            return CheckRun(target=self.target, stages=_stages(self.lab, self._report), seconds=seconds, output=output)
        finally:
            self._output.close()
            self._tmp.cleanup()


    def stop(self) -> None:
        """Not waited for after all (make lab-N interrupted): stop the subprocess by its pid."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._output.close()
        self._tmp.cleanup()


def start_checks(lab: Lab, target: str, config: StackConfig | None = None, live_execution: str | None = None) -> PendingChecks:
    """The lab's stage checks against `target`, started in a pytest subprocess.

    `live_execution`: the ARN of an execution of this target started on the
    stack by make lab-N itself; the live checks read it back instead of
    starting another, which would wait out the same durable backoffs a
    second time (only for labs that say their checks read the run alone).
    """
    return PendingChecks(lab, target, config or StackConfig(), live_execution)


def run_checks(lab: Lab, target: str, config: StackConfig | None = None, live_execution: str | None = None) -> CheckRun:
    """start_checks(), waited for."""
    return start_checks(lab, target, config, live_execution).result()


def _stages(lab: Lab, report: Path) -> dict[int, StageResult]:
    """One result per stage from pytest's JUnit report: a stage passes when all its checks ran and passed."""
    stages = {number: StageResult(number=number, passed=True) for number in lab.stage_files()}
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
    return stages
