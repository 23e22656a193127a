"""How the lab commands look: the header, the stage table, the expected/seen box, the solution diff.

Kept apart from what the commands do (commands.py) so each reads on its own.
Everything a check says is escaped before Rich sees it (a check's text may
hold `[...]`, which Rich would read as markup); the expected/seen box labels
each failure "in-process" or "on the stack"; a command the learner may copy
carries the stack's settings when they are not the defaults, so it reaches the
same stack as `make lab-N` did.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax

from workshop.config import REPO_ROOT, StackConfig, stack_env
from workshop.labs.advice import Advice
from workshop.labs.checks import CheckRun, StageResult
from workshop.labs.model import Lab
from workshop.labs.progress import LabProgress
from workshop.paste import pasteable

console = Console()


def shown(path: Path) -> str:
    """A path as the learner reads it: from the repository's root when it is inside it.

    Lab folders copied elsewhere (WORKSHOP_LABS_DIR, the workshop's own tests)
    are shown from the folder that holds the copy, as short as a learner's.
    """
    from workshop.labs.manifest import LABS_DIR

    resolved = path.resolve()
    for root in (REPO_ROOT, LABS_DIR.parent):
        try:
            return str(resolved.relative_to(root))
        except ValueError:
            continue
    return str(path)


def stack_command(args: Sequence[str], config: StackConfig | None = None) -> str:
    """The command line of `args`, with the stack's settings before it when they differ from the defaults (ports overridden)."""
    config = config or StackConfig()
    default = stack_env(StackConfig(state_dir=REPO_ROOT / ".workshop", emulator_port=4566, runner_port=9014, host_port=3001, xray_port=2000))
    return pasteable(args, {key: value for key, value in stack_env(config).items() if value != default[key]})


def show_commands(console: Console, label: str, *commands: Sequence[str]) -> None:
    """`label`, then each command (its arguments) on a line of its own, as stack_command writes it.

    Printed without Rich's wrapping: at 80 columns Rich would break a long ARN
    with a newline, and the copied command would be two lines. Unwrapped, the
    terminal folds the line on screen and a copy of it is the one command.
    """
    console.print(label, highlight=False)
    for args in commands:
        console.print("  " + stack_command(args), soft_wrap=True, markup=False, highlight=False)


def time_scale_line(lab: Lab) -> str:
    """The header's word on the lab's faster timers (lab.py's TIME_SCALE), or nothing at real time.

    The history keeps the real clock: a 1 s wait still says 1 s and ends sooner,
    which only the full timeline shows (VERBOSE=1, or `workshop timeline`).
    """
    if lab.time_scale <= 1:
        return ""
    what = "waits and timeouts" if lab.scale_callback_timeouts else "waits"
    return f"[dim]Durable {what} run {lab.time_scale:g}x faster here (lab functions only).[/]"


def show_header(lab: Lab, progress: LabProgress | None, target: str = "learner") -> None:
    stage = progress.first_unpassed if progress else (lab.stages[0] if lab.stages else None)
    never = progress is None or progress.last_run is None
    if stage is None:
        where = "all stages passed"
    else:
        where = f"stage {stage.number} of {len(lab.stages)}: {stage.title}" + (" (not run yet)" if never else "")
    running = (
        "" if target == "learner"
        else f"\nRunning: [yellow]{escape(shown(lab.handler_path(target)))}[/] (LAB_TARGET={target}; your progress is not recorded)"
    )  # fmt: skip
    # the goal on the first run (and under VERBOSE=1): after that the learner knows it, and the verdict needs the rows
    from workshop.labs.verdict import verbose

    # The faster timers are said with the goal, in the row that set it apart (no row more for the budget):
    # on the first run, and under VERBOSE=1, whose whole timeline shows the durations the compact verdict does not.
    goal = f"[bold]{escape(lab.goal)}[/]\n{time_scale_line(lab)}\n" if never or verbose() else ""
    console.print(Panel(
        f"{goal}You edit: [cyan]{escape(shown(lab.handler_path('learner')))}[/]\nWhere you are: {escape(where)}"
        f"{running}\nThe story and the steps: {escape(shown(lab.path / 'README.md'))}",
        title=f"Lab {lab.number} — {lab.title}", expand=False,
    ))  # fmt: skip


def problem_box(result: StageResult, limit: int = 1) -> str:
    """The expected/seen box's text: each failure whole, labelled where it was seen."""
    parts = []
    for problem in result.problems[:limit]:
        label = f"[bold]{problem.where}:[/] " if problem.where else ""
        parts.append(label + escape(problem.text))
    more = len(result.problems) - limit
    if more > 0:
        parts.append(f"[dim](and {more} more failed check{'s' if more > 1 else ''} of this stage)[/]")
    return "\n\n".join(parts)


def show_stages(lab: Lab, checks: CheckRun, advice: Advice | None, marks: dict[int, bool | None] | None = None) -> None:
    """The stages one line each (verdict.py), then, for the first failing one, what was expected and seen, and the advice.

    `marks`: each stage's mark when not all were checked (None: "not checked", after a run that failed).
    """
    from workshop.labs.verdict import show_stage_lines

    if marks is None:
        marks = {n: result.passed for n, result in checks.stages.items()}
    rows = [(stage.number, stage.title, marks.get(stage.number, False)) for stage in lab.stages]
    show_stage_lines(console, rows, f"Lab {lab.number} stages (checked in {checks.seconds:.1f} s)")
    failing = next((checks.stages[s.number] for s in lab.stages if marks.get(s.number) is False and s.number in checks.stages), None)
    if failing is None:
        console.print(f"[bold green]All {len(lab.stages)} stages of lab {lab.number} pass.[/] Compare with the solution: make lab-{lab.number}-solution")
        return
    stage = next(s for s in lab.stages if s.number == failing.number)
    console.print(Panel(problem_box(failing), title=f"stage {stage.number}: what was expected, what was seen", border_style="red"))
    if advice is not None:
        show_advice(advice)


def show_advice(advice: Advice | dict[str, Any], title: str | None = None) -> None:
    kind = advice.kind if isinstance(advice, Advice) else advice.get("kind", "hint")
    heading = advice.title if isinstance(advice, Advice) else advice.get("title", "hint")
    text = advice.text if isinstance(advice, Advice) else advice.get("text", "")
    color = "yellow" if kind == "hint" else "magenta"
    console.print(Panel(escape(text), title=title or escape(heading), border_style=color))


def show_diff(diff: str) -> None:
    """The solution diff, wrapped (never cropped at the terminal's width); paged when it is taller than the terminal."""
    syntax = Syntax(diff, "diff", theme="ansi_dark", word_wrap=True)
    if console.is_terminal and diff.count("\n") > shutil.get_terminal_size().lines - 2:
        with console.pager(styles=True):
            console.print(syntax)
    else:
        console.print(syntax)
