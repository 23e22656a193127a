"""What each lab command does: run, hint, solution, reset, progress, next, verify.

Each returns its exit code; none leaves a traceback for a learner's mistake:
a handler that does not import stops `make lab-N` before the live run with
its line; an error the handler raises during the live run stops it there and
is the verdict (first_error.py, verdict.py); a run that passes its deadline
names its cause; reset and solution
work with handler.py deleted; `__main__` turns Ctrl-C into one line and 130.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from workshop.config import StackConfig
from workshop.labs import progress as saved
from workshop.labs.advice import Advice, advice_for, culprit_line, describe_advice, error_advice, error_guidance
from workshop.labs.checks import CheckRun, PendingChecks, run_checks, start_checks
from workshop.labs.deadlines import StuckError
from workshop.labs.model import Lab, all_labs, current_target, find_lab
from workshop.labs.preflight import ImportProblem, import_problem, syntax_problem
from workshop.labs.pristine import notice, pristine
from workshop.labs.progress import LabProgress
from workshop.labs.run import ExecutionRun, RunFailed, read_live
from workshop.labs.show import console, show_advice, show_diff, show_header, show_stages, shown, stack_command
from workshop.labs.verdict import FAILING_LINES, PASSING_LINES, LineCount, error_panel, show_replay, show_signal_within, show_stage_lines, verbose
from workshop.render.tables import ReadableTable, readable, table_of

TIMINGS_ENV = "WORKSHOP_LAB_TIMINGS"


@dataclass
class Phases:
    """Wall time of each phase of `make lab-N`, for `make bench` (workshop/tools/bench/).

    Written as JSON to the file named by WORKSHOP_LAB_TIMINGS when it is set, so
    the bench can tell start-up from the live run from the checks of a run it
    timed from outside; a learner never sees it.
    """

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started

    def write(self) -> None:
        path = os.environ.get(TIMINGS_ENV)
        if path:
            Path(path).write_text(json.dumps(self.seconds), encoding="utf-8")


class _Preflight(threading.Thread):
    """The handler's import, checked in preflight.py's subprocess beside the stack check and the live run.

    Why beside: it takes about a second (the handler's own imports) and it
    almost always finds nothing; waiting for it put that second before every
    live run. A daemon: an interrupted run does not wait for it.
    """

    def __init__(self, lab: Lab, target: str) -> None:
        super().__init__(name="lab-preflight", daemon=True)
        self.lab, self.target = lab, target
        self.problem: ImportProblem | None = None

    def run(self) -> None:
        self.problem = import_problem(self.lab.handler_path(self.target), self.lab.env_overrides)

    def found(self) -> ImportProblem | None:
        """The problem, once it answered (None meanwhile, and when the handler imports)."""
        return None if self.is_alive() else self.problem


class _ImportFailed(Exception):
    """The preflight found the handler does not import while its live run ran (that execution is stopped)."""

    def __init__(self, problem: ImportProblem, started: bool) -> None:
        super().__init__(problem.message)
        self.problem = problem
        self.started = started  # an execution had begun, and was stopped


class _LiveRead(threading.Thread):
    """read_live() in a thread, so the preflight's answer can end the wait for it (a daemon: nothing waits for it)."""

    def __init__(self, config: StackConfig, function: str, arn: str, deadline_s: float, handler: Path) -> None:
        super().__init__(name="lab-live-read", daemon=True)
        self.args = (config, function, arn, deadline_s)
        self.handler = handler
        self.run_read: ExecutionRun | None = None
        self.raised: BaseException | None = None

    def run(self) -> None:
        try:
            self.run_read = read_live(*self.args, handler=self.handler)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as it is
            self.raised = exc


def _read_beside_preflight(config: StackConfig, function: str, arn: str, deadline_s: float, handler: Path,
                           preflight: _Preflight) -> ExecutionRun:  # fmt: skip
    """read_live(), unless the preflight says the handler does not import: then the execution is stopped
    and _ImportFailed raised, at once (its failed invocations' retries are not waited for). The
    preflight is waited for before the run's own outcome is given: an import error is reported as one."""
    from workshop.config import boto3_client

    lam = boto3_client("lambda", config)  # here, not in a thread: boto3's default session is not thread-safe
    reader = _LiveRead(config, function, arn, deadline_s, handler)
    reader.start()
    while reader.is_alive() and preflight.found() is None:
        reader.join(0.05)
    preflight.join()
    if preflight.problem is not None:
        try:
            lam.stop_durable_execution(DurableExecutionArn=arn, Error={"ErrorType": "LabImportError", "ErrorMessage": "stopped by make lab-N: handler.py does not import"})
        except Exception:  # noqa: BLE001 - it may have ended (or been stopped) meanwhile
            pass
        raise _ImportFailed(preflight.problem, started=True)
    if reader.raised is not None:
        raise reader.raised
    assert reader.run_read is not None
    return reader.run_read


def say_if_edited(lab: Lab) -> None:
    """First thing every lab command says when the learner edited starter/ or solution/ instead of handler.py."""
    text = notice(lab)
    if text is not None:
        console.print(Panel(escape(text), title=f"Lab {lab.number}: the wrong file?", border_style="yellow"))


def _does_not_import(lab: Lab, target: str, problem: ImportProblem, config: StackConfig, started: bool = False) -> int:
    """The import problem with its line; `started`: an execution had begun beside the import check and was stopped."""
    path = lab.handler_path(target)
    ran = "its run was stopped" if started else "nothing was run"
    todo = (
        f"Fix that line and run `make lab-{lab.number}` again. Lost? `make lab-{lab.number}-reset` "
        f"restores the starter (your file is kept beside it); `make lab-{lab.number}-solution` shows the way."
    )
    console.print(Panel(escape(problem.text(path)), title=f"{shown(path)} does not import — {ran}", border_style="red"))
    show_advice(Advice("your handler.py does not import", todo, "import"))
    if target == "learner":  # make lab-N-hint says the same, error included, until the next run
        kept = Advice("your handler.py does not import", f"{problem.text(path)}\n\n{todo}", "import")
        saved.record_run(config, lab.number, {s.number: False for s in lab.stages}, {"stage": lab.stages[0].number, **describe_advice(kept)})
    return 1


def cmd_run(lab: Lab) -> int:
    """The learner's handler by default; LAB_TARGET=solution (or starter) runs that one
    instead, as the checks do, without touching the learner's file or progress.

    The verdict comes first and short (verdict.py): the first error the code
    raised, when it raised one (the live run stops there, and so do the checks:
    its stages are "not checked", not failed), else the stages; then the replay
    in one line per invocation and the explorer's link. VERBOSE=1 adds the
    whole timeline and the lab's full signal.
    """
    config = StackConfig()
    target = current_target()
    counted = LineCount(console)  # a lab's signal is shown when the run's output still fits (verdict.py)
    try:
        if target == "learner":  # LAB_TARGET=starter or solution runs the edited copy itself: nothing to warn of
            say_if_edited(lab)
        return _run(lab, config, target, Phases(), counted)
    finally:
        counted.close()


def _run(lab: Lab, config: StackConfig, target: str, phases: Phases, counted: LineCount) -> int:
    from workshop import stack
    from workshop.labs.harness.live import deploy

    before = saved.lab_progress(lab.number, config)
    show_header(lab, before, target)
    problem = syntax_problem(lab.handler_path(target))  # milliseconds: nothing is started for a file that does not compile
    if problem is not None:
        return _does_not_import(lab, target, problem, config)
    preflight = _Preflight(lab, target)  # the import, beside the stack check and the live run (_read_beside_preflight)
    preflight.start()
    # The checks start now, every lab's: pytest's start-up and the in-process checks run beside the
    # stack check and the live run. Those that read this run's execution back get its ARN from
    # handover(); lab 4's run live deliveries of their own, on the stack beside this one (2.7 s
    # after the run when they started after it).
    pending: PendingChecks | None = start_checks(lab, target, config, follow_live_run=lab.checks_read_the_live_run)
    try:
        console.rule("the local stack")
        with phases.phase("stack"):
            if verbose() or not stack.ready(config):  # ready: a few ms; up on a running stack provisions it again (1 s)
                stack.up(config, say=console.print if verbose() else _stack_line)
            else:
                console.print("stack healthy", highlight=False)
    except BaseException:
        if pending is not None:
            pending.stop()
        raise
    running = f"your {lab.handler_path('learner').name}" if target == "learner" else f"{target}/handler.py"
    run: ExecutionRun | None = None
    after_run: _AfterRun | None = None
    try:
        with phases.phase("live"):
            function = deploy(lab, target, config)  # the function the live checks run, or read back
            answered = preflight.found()
            if answered is not None:  # it answered already: nothing is started
                raise _ImportFailed(answered, started=False)
            console.rule(f"{running}, as a real durable execution")
            arn = function.start(lab.payload)
            if pending is not None:
                pending.handover(arn)
            try:
                with console.status("the execution is running…"):
                    run = _read_beside_preflight(config, function.name, arn, function.deadline_s, lab.handler_path(target), preflight)
            except RunFailed as failed:
                marks: dict[int, bool | None] = {s.number: None for s in lab.stages}
                if failed.ended and getattr(lab.module, "FAILING_RUN_IS_CHECKED", False):
                    # it ended on its own, and a run that fails on the payload's bad record is part of this lab's story
                    with phases.phase("checks"), console.status("running the stage checks…"):
                        checked = (pending or start_checks(lab, target, config)).result()
                    pending = None
                    marks = _marks_after_an_error(lab, checked)
                    if any(mark is False for mark in marks.values()):  # a stage failed for its own reason: that is the verdict
                        code = _report_failing_by_design(lab, target, failed, checked, marks, config, function, counted)
                        phases.write()
                        return code
                elif pending is not None:
                    pending.stop()  # they would wait out what was stopped: "not checked", not failed
                pending = None
                code = _report_first_error(lab, target, failed, before, config, marks)
                phases.write()
                return code
            except StuckError as exc:
                console.print(f"[red]the live run did not finish:[/] {escape(str(exc))}")
            except AssertionError as exc:
                console.print(f"[red]the live run could not be read back:[/] {escape(str(exc))}")
            if run is not None and verbose():
                from workshop.render.console import show_timeline

                show_timeline(run.arn)
        if run is not None:  # read while the checks finish (the main thread only waits for them meanwhile)
            after_run = _AfterRun(lab, run, config)
            after_run.start()
        with phases.phase("checks"):  # what is left of them once the live run is shown
            with console.status("running the stage checks…"):
                checks = (pending or start_checks(lab, target, config)).result()
            advice = _advice(lab, checks)
            if target == "learner":
                failing = checks.first_failing()
                kept = {"stage": failing.number, **describe_advice(advice)} if failing and advice else None
                saved.record_run(config, lab.number, {n: s.passed for n, s in checks.stages.items()}, kept)
        console.rule("the verdict")
        show_stages(lab, checks, advice)
        if after_run is not None:
            after_run.join()
        _show_replay(lab, run.arn if run else arn, config, after_run.timeline if after_run else None)
        show_signal = getattr(lab.module, "show_signal", None)
        if run is not None and show_signal:
            if after_run is not None and after_run.signal is not None:
                show_signal = functools.partial(show_signal, measured=after_run.signal)
            room = (PASSING_LINES if checks.all_passed else FAILING_LINES) - counted.lines
            show_signal_within(console, show_signal, run, room, f"VERBOSE=1 make lab-{lab.number}")
    except _ImportFailed as failed:
        if pending is not None:
            pending.stop()
        return _does_not_import(lab, target, failed.problem, config, started=failed.started)
    except BaseException:
        if pending is not None:
            pending.stop()  # make lab-N interrupted while its checks ran: they do not outlive it
        raise
    phases.write()
    return 0 if checks.all_passed else 1


def _stack_line(line: str) -> None:
    """`make up`'s lines, short: only what changed (a service started) and the summary's first words."""
    if "already running" in line or line.lstrip().startswith("provisioned"):
        return
    console.print(line.split(":", 1)[0] if line.startswith("stack healthy") else line, highlight=False)


class _AfterRun(threading.Thread):
    """What the verdict shows after the stages, read from the stack while the checks still run.

    Why: the replay's timeline (0.1-0.4 s: the history, the invocation index,
    the log lines) and lab 4's signal (a second delivery of the batch, about
    half a second) were read after the checks had ended, one after the other.
    The main thread does nothing with boto3 until join() (it waits for the
    checks' subprocess), so the clients made here never race its own. A
    failure is kept and said where the verdict shows that part.
    """

    def __init__(self, lab: Lab, run: ExecutionRun, config: StackConfig) -> None:
        super().__init__(name="lab-after-run", daemon=True)
        self.lab, self.run_read, self.config = lab, run, config
        self.timeline: Any = None  # load_timeline's (timeline, function), or the exception it raised
        self.signal: Any = None  # lab.py's measure_signal(run), when the lab has one

    def run(self) -> None:
        self.timeline = _load_replay(self.run_read.arn, self.config)
        measure = getattr(self.lab.module, "measure_signal", None)
        if measure is not None:
            try:
                self.signal = measure(self.run_read)
            except Exception:  # noqa: BLE001 - show_signal measures it again and says what failed
                self.signal = None


def _load_replay(arn: str, config: StackConfig) -> Any:
    """load_timeline()'s answer, or the exception it raised (the verdict stands without the replay)."""
    from workshop.inspect import Services
    from workshop.inspect.execution import load_timeline

    try:
        return load_timeline(Services(config=config), arn)
    except Exception as exc:  # noqa: BLE001 - said by _show_replay
        return exc


def _show_replay(lab: Lab, arn: str, config: StackConfig, loaded: Any = None) -> None:
    """The replay in one line per invocation, and the explorer's link (a stack that stopped meanwhile: one line).

    `loaded`: _load_replay()'s answer, read beforehand (_AfterRun); else read here.
    """
    from workshop.explorer import browser_url

    loaded = _load_replay(arn, config) if loaded is None else loaded
    if isinstance(loaded, Exception):
        console.print(f"[yellow]the replay could not be read back:[/] {escape(str(loaded))}")
        return
    timeline, _function = loaded
    command = f"VERBOSE=1 make lab-{lab.number}, or " + stack_command([".venv/bin/workshop", "timeline", arn], config)
    show_replay(console, timeline, browser_url(config), arn, command)


def _marks_after_an_error(lab: Lab, checks: CheckRun) -> dict[int, bool | None]:
    """Each stage after a run that raised and ended: ✓ when it passed, "not checked" (None) when it failed only
    because the run it read failed (kind "execution"), ✗ when it failed for its own reason (lab 5's stage 1 passes
    while its run still fails on a bad body, by design, until stage 3)."""
    marks: dict[int, bool | None] = {}
    for stage in lab.stages:
        result = checks.stages.get(stage.number)
        if result is None or result.passed:
            marks[stage.number] = None if result is None else True
        else:
            marks[stage.number] = None if all(p.kind in ("execution", "setup") for p in result.problems) else False
    return marks


def _report_first_error(lab: Lab, target: str, failed: RunFailed, before: LabProgress | None, config: StackConfig,
                        marks: dict[int, bool | None]) -> int:  # fmt: skip
    """The run raised: the error is the verdict; stages not checked keep their marks in progress; its advice kept for the hint."""
    handler = lab.handler_path(target)
    first = failed.first
    unpassed = next((s for s in lab.stages if marks.get(s.number) is False), None) or (before.first_unpassed if before else None) or lab.stages[0]
    stage = next(s for s in lab.stages if s.number == unpassed.number)
    title = stage.title
    advice = error_advice(lab, first, handler, stage)
    blocks = f"stage {stage.number} ({title})" + ("" if failed.ended else ": no stage is checked until the run gets past it")
    culprit = culprit_line(first, handler)
    line = "" if culprit else f"{handler.name} line {first.line.line}. " if first.line else ""  # the culprit: in "where" already
    look_at = line + error_guidance(lab, first, handler, stage)
    if verbose():
        from workshop.render.console import show_timeline

        show_timeline(failed.arn)
    console.rule("the verdict")
    console.print(error_panel(first, shown(handler), blocks, look_at, culprit))
    show_stage_lines(console, [(s.number, s.title, marks.get(s.number)) for s in lab.stages], f"Lab {lab.number} stages")
    _show_replay(lab, failed.arn, config)
    if target == "learner":
        kept = {"stage": stage.number, **describe_advice(advice)}
        saved.record_run(config, lab.number, marks, kept)
    return 1


def _report_failing_by_design(lab: Lab, target: str, failed: RunFailed, checks: CheckRun, marks: dict[int, bool | None],
                              config: StackConfig, function: Any, counted: LineCount) -> int:  # fmt: skip
    """A run that failed as this lab's starter does by design (lab 4, 5: the batch fails on a bad record), with a
    stage that failed its own check: the stage is the verdict, as in any run; the error is one line under it.

    The error panel would send the learner to the line that raises, which is a later stage's lesson; the first
    failing stage's expected/seen box and hint send them to this stage's, and the lab's signal still shows.
    """
    first = failed.first
    where = f" at {lab.handler_path(target).name} line {first.line.line}" if first.line else ""
    failing = next(s for s in lab.stages if marks.get(s.number) is False)
    result = checks.stages[failing.number]
    advice = advice_for(lab, failing, result)
    console.rule("the verdict")
    show_stages(lab, checks, advice, marks)
    console.print(
        f"The run itself failed{escape(where)}: {escape(first.headline)} — this lab's starter fails the batch that "
        f"way until a later stage; start with stage {failing.number} above.", highlight=False,
    )  # fmt: skip
    _show_replay(lab, failed.arn, config)
    show_signal = getattr(lab.module, "show_signal", None)
    if show_signal:
        try:
            run = read_live(config, function.name, failed.arn, function.deadline_s)  # it ended: read back, for the signal
        except AssertionError as exc:
            console.print(f"[yellow]the run could not be read back for the lab's signal:[/] {escape(str(exc))}")
        else:
            measure = getattr(lab.module, "measure_signal", None)
            if measure is not None:  # once: show_signal_within draws it twice (once to count its lines)
                show_signal = functools.partial(show_signal, measured=measure(run))
            show_signal_within(console, show_signal, run, FAILING_LINES - counted.lines, f"VERBOSE=1 make lab-{lab.number}")
    if target == "learner":
        saved.record_run(config, lab.number, marks, {"stage": failing.number, **describe_advice(advice)})
    return 1


def _advice(lab: Lab, checks: CheckRun) -> Advice | None:
    failing = checks.first_failing()
    if failing is None:
        return None
    stage = next(s for s in lab.stages if s.number == failing.number)
    return advice_for(lab, stage, failing)


def cmd_hint(lab: Lab, level: int | None = None) -> int:
    """The first unpassed stage's hint, one level more per call (hints.py); `level` (LEVEL=1..3) picks one.

    When the last run kept advice other than the hint (an error, a pitfall: it
    follows how the stage failed), that advice comes first, then the level.
    """
    from workshop.labs.hints import show_hint

    say_if_edited(lab)
    config = StackConfig()
    mine = saved.lab_progress(lab.number, config)
    stage = mine.first_unpassed if mine else None
    if mine is None or mine.last_run is None:
        first = lab.stages[0]
        show_hint(lab, first, level, config, f"(no run recorded yet: `make lab-{lab.number}` runs the checks)")
        return 0
    if stage is None:
        console.print(f"All stages of lab {lab.number} have passed. (Run `make lab-{lab.number}` to check again.)")
        return 0
    last_failed = any(s.last is False for s in mine.stages) or (mine.last_advice or {}).get("kind") == "error"  # a run that raised
    advice = mine.last_advice
    if last_failed and advice and advice.get("stage") == stage.number and advice.get("kind", "hint") != "hint":
        show_advice(advice, f"Lab {lab.number}, stage {stage.number} — {escape(advice.get('title', 'hint'))}")
    show_hint(lab, next(s for s in lab.stages if s.number == stage.number), level, config)
    return 0


def cmd_solution(lab: Lab) -> int:
    """The diff from handler.py to the solution as committed (an edited solution/ is not the way)."""
    say_if_edited(lab)
    mine = lab.handler_path("learner")
    solution, _source = pristine(lab, "solution")
    if not mine.is_file():
        console.print(f"[yellow]{shown(mine)} is missing[/]: the whole solution follows. `make lab-{lab.number}-reset` restores the starter.")
    ours = mine.read_text(encoding="utf-8").splitlines(keepends=True) if mine.is_file() else []
    diff = "".join(difflib.unified_diff(
        ours, solution.splitlines(keepends=True),
        fromfile=f"{lab.path.name}/handler.py (yours)", tofile=f"{lab.path.name}/solution/handler.py",
    ))  # fmt: skip
    if diff:
        show_diff(diff)
    else:
        console.print("Your handler.py is the solution, line for line.")
    return 0


def cmd_reset(lab: Lab) -> int:
    """handler.py back to the starter as committed when starter/ was edited (else a reset would restore the edit)."""
    say_if_edited(lab)
    mine = lab.handler_path("learner")
    starter, source = pristine(lab, "starter")
    if not mine.is_file():
        mine.write_text(starter, encoding="utf-8")
        console.print(f"{escape(shown(mine))} was missing: restored {escape(source)}.")
        return 0
    if mine.read_text(encoding="utf-8") == starter:
        console.print(f"{mine.name} is already {escape(source)}: nothing to reset.")
        return 0
    backup = mine.with_name(f"handler.py.bak-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.copy2(mine, backup)
    mine.write_text(starter, encoding="utf-8")
    console.print(f"Restored {escape(source)}. Your version is kept in [cyan]{escape(shown(backup))}[/].")
    return 0


def _marks(values: list[bool | None]) -> str:
    return " ".join("[dim]·[/]" if v is None else "[green]✓[/]" if v else "[red]✗[/]" for v in values)


def progress_table(progress: list[LabProgress]) -> ReadableTable:
    """Each lab: the best result of each stage, the last run's, and when that was."""
    rows = []
    for lab in progress:
        ran = lab.last_run is not None
        best = _marks([s.best if ran else None for s in lab.stages])
        rows.append([f"{lab.number} {lab.title}", best, _marks([s.last for s in lab.stages]), lab.last_run or "not run yet"])
    return table_of("Your progress (best result per stage, and your last run)", ["lab", "best", "last run", "when"], rows)


def cmd_progress() -> int:
    for lab in all_labs():
        say_if_edited(lab)
    progress = saved.read_progress()
    console.print(progress_table(progress))
    console.print("✓ passed · ✗ failed · · not run yet — best: passed in any run; last run: the latest `make lab-N`.")
    console.print(f"Next: {saved.next_command(progress)}")
    return 0


def cmd_next() -> int:
    """`make next`: the first lab with a stage that has not passed yet."""
    lab = saved.next_lab(saved.read_progress())
    if lab is None:
        console.print("Every stage of every lab has passed. `make progress` shows them; `make lab-N` runs one again.")
        return 0
    return cmd_run(find_lab(lab.number))


def cmd_verify(labs: list[Lab]) -> int:
    """Every stage fails on the starter and passes on the solution (CI runs this)."""
    from workshop.labs.harness.live import ensure_stack

    config = StackConfig()
    ensure_stack(config)
    ok = True
    table = Table(title="lab checks: starter must fail every stage, solution must pass every stage")
    for column in ("lab", "stage", "starter", "solution"):
        table.add_column(column)
    for lab in labs:
        starter, solution = run_checks(lab, "starter", config), run_checks(lab, "solution", config)
        for stage in lab.stages:
            s, t = starter.stages.get(stage.number), solution.stages.get(stage.number)
            good_starter = s is not None and not s.passed
            good_solution = t is not None and t.passed
            ok &= good_starter and good_solution
            table.add_row(
                f"{lab.number}", f"{stage.number} {escape(stage.title)}",
                "[green]fails ✓[/]" if good_starter else "[red]PASSES (a check that passes on the starter is a bug)[/]",
                "[green]passes ✓[/]" if good_solution else "[red]FAILS: " + escape("; ".join((t.failures if t else ["not run"])[:1])) + "[/]",
            )  # fmt: skip
        console.print(f"lab {lab.number}: checks took {starter.seconds:.1f} s (starter), {solution.seconds:.1f} s (solution)")
    console.print(readable(table))
    return 0 if ok else 1


def labs_to_verify(number: int | None) -> list[Lab]:
    return [find_lab(number)] if number else all_labs()
