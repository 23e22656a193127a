"""`make lab-N`, `make lab-N-hint`, `make lab-N-solution`, `make lab-N-reset`, `make progress`.

    python -m workshop.labs run N        goal, a live run, the lab's signal, the stage checks
    python -m workshop.labs hint N       the hint for your first failing stage
    python -m workshop.labs solution N   the diff from your handler.py to the solution
    python -m workshop.labs reset N      restore the starter (your file is kept as a backup)
    python -m workshop.labs progress     every lab and stage, from your last runs
    python -m workshop.labs verify [N]   CI: every stage fails on the starter, passes on the solution

`run` takes LAB_TARGET (learner, the default; starter; solution) as the checks
do, and writes its phase timings to WORKSHOP_LAB_TIMINGS when set: `make bench`
times the solution's `make lab-N` that way, leaving the learner's files alone.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from workshop.config import REPO_ROOT, StackConfig
from workshop.labs.checks import CheckRun, PendingChecks, run_checks, start_checks
from workshop.labs import progress as progress_file
from workshop.labs.model import Lab, all_labs, current_target, find_lab
from workshop.labs.progress import load_progress

TIMINGS_ENV = "WORKSHOP_LAB_TIMINGS"

console = Console()


def save_progress(config: StackConfig, lab: Lab, checks: CheckRun) -> None:
    progress_file.save_progress(config, lab.number, {n: s.passed for n, s in checks.stages.items()})


def show_header(lab: Lab, progress: dict[str, Any], target: str = "learner") -> None:
    saved = progress.get(str(lab.number), {}).get("stages", {})
    current = next((s for s in lab.stages if not saved.get(str(s.number))), None)
    where = f"stage {current.number} of {len(lab.stages)}: {current.title}" if current else "all stages passed last time"
    edit = lab.handler_path("learner").relative_to(REPO_ROOT)
    running = "" if target == "learner" else f"\nRunning: [yellow]{lab.handler_path(target).relative_to(REPO_ROOT)}[/] (LAB_TARGET={target}; your progress is not recorded)"
    console.print(Panel(f"[bold]{lab.goal}[/]\n\nYou edit: [cyan]{edit}[/]\nWhere you are: {where}{running}\nThe story and the steps: workshop/{lab.path.name}/README.md",
                        title=f"Lab {lab.number} — {lab.title}", expand=False))  # fmt: skip


def show_stages(lab: Lab, checks: CheckRun) -> None:
    table = Table(title=f"Lab {lab.number} stage checks ({checks.seconds:.1f} s)", show_lines=False)
    table.add_column("stage")
    table.add_column("")
    table.add_column("what it checks")
    for stage in lab.stages:
        result = checks.stages.get(stage.number)
        mark = "[green]✓ passed[/]" if result and result.passed else "[red]✗ failed[/]"
        table.add_row(str(stage.number), mark, stage.title)
    console.print(table)
    failing = checks.first_failing()
    if failing is None:
        console.print(f"[bold green]All {len(lab.stages)} stages of lab {lab.number} pass.[/] Compare with the solution: make lab-{lab.number}-solution")
        return
    stage = next(s for s in lab.stages if s.number == failing.number)
    console.print(Panel("\n\n".join(failing.failures[:2]), title=f"stage {stage.number}: {stage.title} — what was expected and what was seen", border_style="red"))
    console.print(Panel(stage.hint, title="hint", border_style="yellow"))


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


def cmd_run(lab: Lab) -> int:
    """The learner's handler by default; LAB_TARGET=solution (or starter) runs that one
    instead, as the checks do, without touching the learner's file or progress."""
    from workshop import stack
    from workshop.labs.harness.live import deploy
    from workshop.render.console import show_timeline

    config = StackConfig()
    target = current_target()
    phases = Phases()
    show_header(lab, load_progress(config), target)
    console.rule("the local stack")
    with phases.phase("stack"):
        stack.up(config, say=console.print)
    running = f"your {lab.handler_path('learner').name}" if target == "learner" else f"{target}/handler.py"
    console.rule(f"{running}, as a real durable execution")
    pending: PendingChecks | None = None
    try:
        with phases.phase("live"):
            function = deploy(lab, target, config)  # the function the live checks run, or read back
            arn = function.start(lab.payload)
            if lab.checks_read_the_live_run:
                # the checks read this execution back: they run while it waits out its backoffs
                pending = start_checks(lab, target, config, live_execution=arn)
            try:
                run = function.read(arn)
            except AssertionError as exc:
                console.print(f"[red]the live run did not finish:[/] {exc}")
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
            if target == "learner":
                save_progress(config, lab, checks)
            show_stages(lab, checks)
    except BaseException:
        if pending is not None:
            pending.stop()  # make lab-N interrupted while its checks ran: they do not outlive it
        raise
    phases.write()
    return 0 if checks.all_passed else 1


def cmd_hint(lab: Lab) -> int:
    saved = load_progress(StackConfig()).get(str(lab.number), {}).get("stages", {})
    stage = next((s for s in lab.stages if not saved.get(str(s.number))), None)
    if stage is None:
        console.print(f"All stages of lab {lab.number} passed on your last run. (Run `make lab-{lab.number}` to check again.)")
        return 0
    note = "" if saved else f" (no run recorded yet: `make lab-{lab.number}` runs the checks)"
    console.print(Panel(stage.hint, title=f"Lab {lab.number}, stage {stage.number}: {stage.title}{note}", border_style="yellow"))
    return 0


def cmd_solution(lab: Lab) -> int:
    mine, solution = lab.handler_path("learner"), lab.handler_path("solution")
    diff = "".join(
        difflib.unified_diff(
            mine.read_text().splitlines(keepends=True),
            solution.read_text().splitlines(keepends=True),
            fromfile=f"{lab.path.name}/handler.py (yours)",
            tofile=f"{lab.path.name}/solution/handler.py",
        )
    )
    console.print(Syntax(diff, "diff", theme="ansi_dark") if diff else "Your handler.py is the solution, line for line.")
    return 0


def cmd_reset(lab: Lab) -> int:
    mine, starter = lab.handler_path("learner"), lab.handler_path("starter")
    if mine.read_text() == starter.read_text():
        console.print(f"{mine.name} is already the starter: nothing to reset.")
        return 0
    backup = mine.with_name(f"handler.py.bak-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.copy2(mine, backup)
    shutil.copyfile(starter, mine)
    console.print(f"Restored the starter. Your version is kept in [cyan]{backup}[/].")
    return 0


def cmd_progress() -> int:
    saved_runs = load_progress(StackConfig())
    table = Table(title="Your progress (from your last `make lab-N` runs)")
    table.add_column("lab")
    table.add_column("stages")
    table.add_column("last run")
    for lab in all_labs():
        saved = saved_runs.get(str(lab.number))
        marks = " ".join(
            ("[green]✓[/]" if saved["stages"].get(str(s.number)) else "[red]✗[/]") if saved else "[dim]·[/]" for s in lab.stages
        )
        table.add_row(f"{lab.number} {lab.title}", marks, saved["when"] if saved else "not run yet")
    console.print(table)
    console.print("✓ passed · ✗ failed · · not run yet — `make lab-N` runs a lab, `make lab-N-hint` shows the next hint.")
    return 0


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
                f"{lab.number}", f"{stage.number} {stage.title}",
                "[green]fails ✓[/]" if good_starter else "[red]PASSES (a check that passes on the starter is a bug)[/]",
                "[green]passes ✓[/]" if good_solution else "[red]FAILS: " + "; ".join((t.failures if t else ["not run"])[:1]) + "[/]",
            )  # fmt: skip
        console.print(f"lab {lab.number}: checks took {starter.seconds:.1f} s (starter), {solution.seconds:.1f} s (solution)")
    console.print(table)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.labs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "hint", "solution", "reset", "progress", "verify"])
    parser.add_argument("lab", nargs="?", type=int, help="the lab number")
    args = parser.parse_args(argv)
    try:
        if args.command == "progress":
            return cmd_progress()
        if args.command == "verify":
            return cmd_verify([find_lab(args.lab)] if args.lab else all_labs())
        if args.lab is None:
            parser.error(f"{args.command} needs a lab number, e.g. `python -m workshop.labs {args.command} 1`")
        lab = find_lab(args.lab)
        return {"run": cmd_run, "hint": cmd_hint, "solution": cmd_solution, "reset": cmd_reset}[args.command](lab)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            console.print(f"[red]{exc.code}[/]")
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
