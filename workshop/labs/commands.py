"""What each lab command does: run, hint, solution, reset, progress, next, verify.

Each returns its exit code; none leaves a traceback for a learner's mistake:
a handler that does not import stops `make lab-N` before the live run with
its line; a run that passes its deadline names its cause; reset and solution
work with handler.py deleted; `__main__` turns Ctrl-C into one line and 130.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from workshop.config import StackConfig
from workshop.labs import progress as saved
from workshop.labs.advice import Advice, advice_for, describe_advice
from workshop.labs.checks import CheckRun, PendingChecks, run_checks, start_checks
from workshop.labs.deadlines import StuckError
from workshop.labs.model import Lab, all_labs, current_target, find_lab
from workshop.labs.preflight import ImportProblem, check
from workshop.labs.pristine import notice, pristine
from workshop.labs.progress import LabProgress
from workshop.labs.show import console, show_advice, show_diff, show_header, show_stages, shown
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
    """The import check, beside the stack's start-up (a daemon: an interrupted run does not wait for it)."""

    def __init__(self, lab: Lab, target: str) -> None:
        super().__init__(name="lab-preflight", daemon=True)
        self.lab, self.target = lab, target
        self.problem: ImportProblem | None = None

    def run(self) -> None:
        self.problem = check(self.lab.handler_path(self.target), self.lab.env_overrides)


def say_if_edited(lab: Lab) -> None:
    """First thing every lab command says when the learner edited starter/ or solution/ instead of handler.py."""
    text = notice(lab)
    if text is not None:
        console.print(Panel(escape(text), title=f"Lab {lab.number}: the wrong file?", border_style="yellow"))


def _does_not_import(lab: Lab, target: str, problem: ImportProblem, config: StackConfig) -> int:
    path = lab.handler_path(target)
    todo = (
        f"Fix that line and run `make lab-{lab.number}` again. Lost? `make lab-{lab.number}-reset` "
        f"restores the starter (your file is kept beside it); `make lab-{lab.number}-solution` shows the way."
    )
    console.print(Panel(escape(problem.text(path)), title=f"{shown(path)} does not import — nothing was run", border_style="red"))
    show_advice(Advice("your handler.py does not import", todo, "import"))
    if target == "learner":  # make lab-N-hint says the same, error included, until the next run
        kept = Advice("your handler.py does not import", f"{problem.text(path)}\n\n{todo}", "import")
        saved.record_run(config, lab.number, {s.number: False for s in lab.stages}, {"stage": lab.stages[0].number, **describe_advice(kept)})
    return 1


def cmd_run(lab: Lab) -> int:
    """The learner's handler by default; LAB_TARGET=solution (or starter) runs that one
    instead, as the checks do, without touching the learner's file or progress."""
    from workshop import stack
    from workshop.labs.harness.live import deploy
    from workshop.render.console import show_timeline

    config = StackConfig()
    target = current_target()
    if target == "learner":  # LAB_TARGET=starter or solution runs the edited copy itself: nothing to warn of
        say_if_edited(lab)
    phases = Phases()
    show_header(lab, saved.lab_progress(lab.number, config), target)
    preflight = _Preflight(lab, target)
    preflight.start()
    pending: PendingChecks | None = None
    if lab.checks_read_the_live_run:
        # the checks read this run's execution back: started now, pytest's start-up and the
        # in-process checks run beside the stack check and the live run; handover() gives them the ARN
        pending = start_checks(lab, target, config, follow_live_run=True)
    try:
        console.rule("the local stack")
        with phases.phase("stack"):
            stack.up(config, say=console.print)
            preflight.join()
    except BaseException:
        if pending is not None:
            pending.stop()
        raise
    if preflight.problem is not None:
        if pending is not None:
            pending.stop()
        return _does_not_import(lab, target, preflight.problem, config)
    running = f"your {lab.handler_path('learner').name}" if target == "learner" else f"{target}/handler.py"
    console.rule(f"{running}, as a real durable execution")
    try:
        with phases.phase("live"):
            function = deploy(lab, target, config)  # the function the live checks run, or read back
            arn = function.start(lab.payload)
            if pending is not None:
                pending.handover(arn)
            try:
                run = function.read(arn)
            except StuckError as exc:
                console.print(f"[red]the live run did not finish:[/] {escape(str(exc))}")
                run = None
            except AssertionError as exc:
                console.print(f"[red]the live run could not be read back:[/] {escape(str(exc))}")
                run = None
            if run is not None:
                show_timeline(run.arn)
                show_signal = getattr(lab.module, "show_signal", None)
                if show_signal:
                    console.rule("what to look at")
                    show_signal(console, run)
        console.rule("stage checks")
        with phases.phase("checks"):  # what is left of them once the live run is shown
            with console.status("running the stage checks…"):
                checks = (pending or start_checks(lab, target, config)).result()
            advice = _advice(lab, checks)
            if target == "learner":
                failing = checks.first_failing()
                kept = {"stage": failing.number, **describe_advice(advice)} if failing and advice else None
                saved.record_run(config, lab.number, {n: s.passed for n, s in checks.stages.items()}, kept)
            show_stages(lab, checks, advice)
    except BaseException:
        if pending is not None:
            pending.stop()  # make lab-N interrupted while its checks ran: they do not outlive it
        raise
    phases.write()
    return 0 if checks.all_passed else 1


def _advice(lab: Lab, checks: CheckRun) -> Advice | None:
    failing = checks.first_failing()
    if failing is None:
        return None
    stage = next(s for s in lab.stages if s.number == failing.number)
    return advice_for(lab, stage, failing)


def cmd_hint(lab: Lab) -> int:
    """The advice the last run showed (it follows how the stage failed), else the first unpassed stage's hint."""
    say_if_edited(lab)
    mine = saved.lab_progress(lab.number)
    stage = mine.first_unpassed if mine else None
    if mine is None or mine.last_run is None:
        first = lab.stages[0]
        show_advice(Advice("hint", first.hint, "hint"), f"Lab {lab.number}, stage {first.number}: {escape(first.title)} (no run recorded yet: `make lab-{lab.number}` runs the checks)")
        return 0
    if stage is None:
        console.print(f"All stages of lab {lab.number} have passed. (Run `make lab-{lab.number}` to check again.)")
        return 0
    last_failed = any(s.last is False for s in mine.stages)
    if last_failed and mine.last_advice and mine.last_advice.get("stage") == stage.number:
        show_advice(mine.last_advice, f"Lab {lab.number}, stage {stage.number} — {escape(mine.last_advice.get('title', 'hint'))}")
        return 0
    hint = next(s.hint for s in lab.stages if s.number == stage.number)
    show_advice(Advice("hint", hint, "hint"), f"Lab {lab.number}, stage {stage.number}: {escape(stage.title)}")
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
