"""Run a lab's stage checks in a pytest subprocess and read back one result per stage."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from workshop.config import REPO_ROOT, StackConfig, stack_env
from workshop.labs.deadlines import deadlines
from workshop.labs.model import Lab


@dataclass(frozen=True)
class Problem:
    """One failed check: its text, and what report_plugin.py said of it."""

    text: str
    where: str = ""  # "in-process" or "on the stack"
    kind: str = "check"  # import, stuck, setup, execution, check
    execution: str = ""  # how the run it read ended, when not as the lab expects


@dataclass
class StageResult:
    number: int
    passed: bool
    tests: int = 0
    failures: list[str] = field(default_factory=list)  # the first lines of each failure: expected / seen
    problems: list[Problem] = field(default_factory=list)  # the same failures, with where and what kind

    def add(self, problem: Problem) -> None:
        self.passed = False
        self.failures.append(problem.text)
        self.problems.append(problem)


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


def _failure_text(element: ET.Element, whole: str | None = None) -> str:
    """The learner-facing part of a failure: the assertion message, not pytest's introspection.

    `whole`: the exception's text as report_plugin.py recorded it (JUnit's own
    message attribute is shortened); else that attribute, else the element's text.
    """
    text = whole or element.get("message") or element.text or ""
    setup = re.match(r'^failed on (?:setup|teardown) with "(.*)"$', text, re.DOTALL)
    if setup:
        text = setup[1]
    for prefix in ("AssertionError: ", "Failed: ", "StuckError: ", "workshop.labs.deadlines.StuckError: "):
        text = text.removeprefix(prefix)
    lines = []
    for line in text.splitlines():
        if line.startswith("assert ") or line.startswith("+  ") or line.startswith("  +"):
            break
        if line.startswith("[+") and "more line" in line:  # pytest's note that it cut the report
            continue
        lines.append(line)
    return "\n".join(lines).strip() or text.strip()


LIVE_EXECUTION_ENV = "LAB_LIVE_EXECUTION"  # read by the live_run fixture (workshop.labs.pytest_plugin)
# A file the live_run fixture waits for: checks started before make lab-N's live run get its ARN there (handover()).
LIVE_EXECUTION_FILE_ENV = "LAB_LIVE_EXECUTION_FILE"
# Only the plugins the checks use (-p below): pytest's autoloaded ones (xdist, hypothesis,
# anyio from the workshop's own test tools) cost about a second of imports per run, for nothing.
NO_PLUGIN_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
# A lab whose payload carries ids fresh at each load of its lab.py (RUN_ID) reads this instead,
# so checks that read make lab-N's execution expect that run's ids, not ids of their own.
RUN_ID_ENV = "LAB_RUN_ID"
# pytest's own options for the checks: the plugin that labels each failure, and no cut assertion text
# and the process's end at pytest's (quick_exit.py: no interpreter teardown after the last check)
PYTEST_OPTIONS = ("-p", "workshop.labs.report_plugin", "-p", "workshop.labs.quick_exit",
                  "-o", "truncation_limit_lines=0", "-o", "truncation_limit_chars=0")  # fmt: skip


class PendingChecks:
    """A lab's stage checks running in a pytest subprocess; result() waits for them and reads the report.

    Output goes to files, not pipes, so checks that print a lot never stall
    while make lab-N is still busy with the live run they overlap. The
    subprocess leads a process group of its own: a deadline or make lab-N's
    end stops it and anything it started, by that group's id, and a Ctrl-C
    in the terminal reaches make lab-N alone, which then stops it.
    """

    def __init__(self, lab: Lab, target: str, config: StackConfig, live_execution: str | None, follow_live_run: bool = False) -> None:
        self.lab, self.target = lab, target
        env = {**os.environ, "LAB_TARGET": target, **stack_env(config), **NO_PLUGIN_AUTOLOAD}
        env.pop(LIVE_EXECUTION_ENV, None)
        env.pop(LIVE_EXECUTION_FILE_ENV, None)
        env.pop(RUN_ID_ENV, None)
        if live_execution:
            env[LIVE_EXECUTION_ENV] = live_execution
        run_id = getattr(lab.module, "RUN_ID", None)
        if run_id and (live_execution or follow_live_run):
            env[RUN_ID_ENV] = run_id
        self._tmp = tempfile.TemporaryDirectory(prefix="lab-checks-")
        self._report = Path(self._tmp.name) / "report.xml"
        self._handover: Path | None = None
        if follow_live_run:
            self._handover = Path(self._tmp.name) / "live-execution.txt"
            env[LIVE_EXECUTION_FILE_ENV] = str(self._handover)
        self._output = open(Path(self._tmp.name) / "output.txt", "w+", encoding="utf-8")  # noqa: SIM115 - closed in result()
        self._started = self._deadline_from = time.monotonic()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pytest", str(lab.path / "checks"), "-q", "-p", "no:cacheprovider", *PYTEST_OPTIONS,
             "-o", "junit_family=xunit1", f"--junitxml={self._report}", "-W", "ignore::DeprecationWarning"],
            cwd=REPO_ROOT, env=env, stdout=self._output, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip

    def result(self, deadline_s: float | None = None) -> CheckRun:
        """The checks' results; past the lab's checks deadline they are stopped and every stage says so."""
        deadline_s = deadlines(self.lab).checks_s if deadline_s is None else deadline_s
        try:
            try:
                self._process.wait(timeout=max(0.0, self._deadline_from + deadline_s - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill()
                return self._stopped(deadline_s)
            seconds = time.monotonic() - self._started
            self._output.seek(0)
            output = self._output.read()
            if not self._report.exists():
                raise SystemExit(f"the checks of lab {self.lab.number} did not run:\n{output}")
            return CheckRun(target=self.target, stages=_stages(self.lab, self._report), seconds=seconds, output=output)
        finally:
            self._output.close()
            self._tmp.cleanup()


    def handover(self, arn: str) -> None:
        """The live execution make lab-N just started, for checks started with follow_live_run.

        Written whole (a rename), so the fixture never reads half an ARN. The
        checks' deadline counts from here, for checks that do not read the run
        too (started beside it all the same): before it, they only waited for
        the stack and the deploy, which have deadlines of their own.
        """
        self._deadline_from = time.monotonic()
        if self._handover is None:  # checks with live runs of their own: only their deadline restarts
            return
        partial = self._handover.with_suffix(".partial")
        partial.write_text(arn, encoding="utf-8")
        os.replace(partial, self._handover)

    def stop(self) -> None:
        """Not waited for after all (make lab-N interrupted): stop the subprocess and its group."""
        self._kill()
        self._output.close()
        self._tmp.cleanup()

    def _kill(self) -> None:
        """The subprocess's process group (its pid is the group's id: start_new_session), then the reap."""
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._process.wait()

    def _stopped(self, deadline_s: float) -> CheckRun:
        """Checks stopped at their deadline: each stage failed with that cause (a check that hung, not a verdict)."""
        text = (f"the stage checks did not end within {deadline_s:.0f} s and were stopped: a run they waited on "
                "never ended (a step that does not return?)")  # fmt: skip
        stages = {n: StageResult(number=n, passed=False) for n in self.lab.stage_files()}
        for stage in stages.values():
            stage.add(Problem(text=text, kind="stuck"))
        self._output.seek(0)
        return CheckRun(target=self.target, stages=stages, seconds=time.monotonic() - self._started, output=self._output.read())


def start_checks(lab: Lab, target: str, config: StackConfig | None = None, live_execution: str | None = None,
                 follow_live_run: bool = False) -> PendingChecks:  # fmt: skip
    """The lab's stage checks against `target`, started in a pytest subprocess.

    `live_execution`: the ARN of an execution of this target started on the
    stack by make lab-N itself; the live checks read it back instead of
    starting another, which would wait out the same durable backoffs a
    second time (only for labs that say their checks read the run alone).
    `follow_live_run`: the same, with the ARN not known yet: the checks start
    at once (pytest's start-up, the imports and the in-process checks run
    beside the stack check and the live run, off the critical path) and the
    live ones wait for PendingChecks.handover(arn).
    """
    return PendingChecks(lab, target, config or StackConfig(), live_execution, follow_live_run)


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
        properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        found = [e for e in (case.find("failure"), case.find("error")) if e is not None]
        for problem in found[:1]:
            text = _failure_text(problem, properties.get("message"))
            stage.add(Problem(text, properties.get("where", ""), properties.get("kind", "check"), properties.get("execution", "")))
        if not found and case.find("skipped") is not None:  # a skipped check proves nothing
            stage.add(Problem("skipped: " + _failure_text(case.find("skipped"))))
    for stage in stages.values():
        if stage.tests == 0:
            stage.add(Problem("no check ran for this stage"))
    return stages
