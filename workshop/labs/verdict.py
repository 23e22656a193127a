"""What `make lab-N` prints after the live run: the verdict first, short enough to read at a glance.

Why: the full timeline runs to 200 lines, and the verdict used to come after
it. Now, at 80 columns, a passing run fits 40 lines and a failing one 60:

- the first error the learner's code raised, when there was one (the type and
  message, the handler.py line, one traceback cut to the learner's frames,
  the stage it blocks, what to look at);
- the stages, one line each: ✓, ✗, or "not checked: the run failed first"
  (a run that raised checks nothing: its stages keep their previous mark);
- the replay, one line per invocation: what woke it, what it ran, what it
  suspended on (the same timeline `workshop timeline` draws in full);
- the link to the execution's grid in the explorer.

The full timeline is `VERBOSE=1 make lab-N`, or `workshop timeline ARN`.
Rendering only: the data comes from workshop.inspect and first_error.py.
"""

from __future__ import annotations

import io
import os
import re
import urllib.parse
from collections.abc import Sequence
from typing import Any
from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from workshop.inspect.timeline import Invocation, Operation, Timeline
from workshop.labs.first_error import FirstError

NOT_CHECKED = "not checked: the run failed first"
VERBOSE_ENV = "VERBOSE"
_NAMES_SHOWN = 2  # per section of a replay line; the rest is counted
_NAME_CHARS = 24  # an operation's name in a replay line (a step per record is long: post:lab4-0188f82e-00001)


def verbose() -> bool:
    """VERBOSE=1 (make lab-N VERBOSE=1): the whole timeline and each lab's full signal."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def explorer_link(explorer_url: str, arn: str) -> str:
    """The explorer's replay grid of this execution (its route: GET /execution?arn=), from the explorer's browser URL."""
    # ':', '/' and '$' may stand in a query as they are (RFC 3986): a link a row shorter at 80 columns, still one ARN
    return f"{explorer_url.rstrip('/')}/execution?{urllib.parse.urlencode({'arn': arn}, safe=':/$')}"


# ------------------------------------------------------------------ stages
def stage_line(number: int, title: str, passed: bool | None) -> Text:
    """One stage on one line: ✓ / ✗ / "not checked" (None), the title cut to the width."""
    if passed is None:
        mark, style, note = "·", "yellow", f"{NOT_CHECKED} — "
    else:
        mark, style, note = ("✓", "green", "") if passed else ("✗", "red", "")
    text = Text(f" {mark} stage {number}  ", style=style)
    text.append(note, style="yellow")
    text.append(title)
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def show_stage_lines(console: Console, stages: Sequence[tuple[int, str, bool | None]], heading: str) -> None:
    console.print(Text(heading, style="bold"))
    for number, title, passed in stages:
        console.print(stage_line(number, title, passed), no_wrap=True, overflow="ellipsis")


# ------------------------------------------------------------------ replay
def _name(op: Operation) -> str:
    name = op.name or op.id[:8]
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"


def _names(ops: Sequence[Operation], failed_marks: bool = False) -> str:
    names = [_name(op) + (" ✗" if failed_marks and any(e.endswith("Failed") for e in op.events) else "") for op in ops]
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown + (f" +{len(names) - _NAMES_SHOWN}" if len(names) > _NAMES_SHOWN else "")


def _woken_by(inv: Invocation, previous: Invocation | None) -> str:
    if previous is None:
        return "start"
    if inv.resumed_by:
        return _names(inv.resumed_by) + (" answered" if any(op.kind == "Callback" for op in inv.resumed_by) else " done")
    retried = [op for op in previous.suspended_on if op.kind == "Step"]
    if retried:
        return "retry of " + _names(retried)
    if previous.suspended_on:  # closed while the last invocation ended (a quick chained invoke)
        return _names(previous.suspended_on) + " done"
    return "re-invoke"


def _ended(inv: Invocation) -> str:
    if inv.ended_execution:
        return f"■ {inv.ended_execution}"
    if inv.suspended_on:
        waits = []
        for op in inv.suspended_on:
            kind = {"Step": "retry of", "Wait": "wait", "Callback": "callback", "ChainedInvoke": "invoke"}.get(op.kind, op.kind.lower())
            waits.append(f"{kind} {_name(op)}")
        return "⏸ " + ", ".join(waits[:_NAMES_SHOWN]) + (f" +{len(waits) - _NAMES_SHOWN}" if len(waits) > _NAMES_SHOWN else "")
    if inv.in_progress:
        return "still running"
    if inv.error_type:
        return f"failed: {inv.error_type}"
    return "ended"


def replay_lines(timeline: Timeline, width: int | None = None) -> list[str]:
    """One line per invocation: `2  ⏰ what woke it → ↺ replayed, ▶ ran → ⏸ suspended on` (plain text, no markup).

    `width`: the columns a line may take. What ran is cut first, so that what
    woke the invocation and what it suspended on, the replay's story, stay whole.
    """
    lines = []
    previous: Invocation | None = None
    for inv in timeline.invocations:
        replayed = f"↺ {len(inv.replayed)}, " if inv.replayed else ""
        ran = f"▶ {_names(inv.ran, failed_marks=True)}" if inv.ran else "▶ nothing new"
        head, middle, tail = f"{inv.number}  ⏰ {_woken_by(inv, previous)} → ", f"{replayed}{ran}", f" → {_ended(inv)}"
        room = None if width is None else width - cell_len(head) - cell_len(tail)  # cells: ⏰ takes two columns
        if room is not None and cell_len(middle) > room:
            middle = set_cell_size(middle, max(room - 1, 3)).rstrip() + "…"
        lines.append(head + middle + tail)
        previous = inv
    return lines


def show_replay(console: Console, timeline: Timeline, explorer_url: str, arn: str, timeline_command: str) -> None:
    """The compact replay, then the explorer link and the command for the full timeline."""
    console.print(Text(f"The replay ({timeline.status}), per invocation: ⏰ woken by → ▶ ran → ⏸ suspended on", style="bold"), no_wrap=True, overflow="ellipsis")
    for line in replay_lines(timeline, console.width - 2):
        console.print(Text("  " + line), no_wrap=True, overflow="ellipsis")
    console.print("The grid, in the explorer: " + explorer_link(explorer_url, arn), soft_wrap=True, markup=False, highlight=False)
    console.print(f"The whole timeline: {timeline_command}", soft_wrap=True, markup=False, highlight=False)


# ------------------------------------------------------------- first error
def error_panel(first: FirstError, handler_shown: str, blocks: str, look_at: str, culprit: str = "") -> Panel:
    """The verdict of a run that raised: what, where, one traceback of the learner's frames, what it blocks, what to do.

    `culprit`: the learner's line a known mistake points at when no frame of
    theirs is in the traceback (a DurableContext handed to Powertools, which
    calls it later, from its own code).
    """
    line = first.line
    if line is not None:
        where = f"{handler_shown} line {line.line}, in {line.function}"
    elif culprit:
        where = culprit
    else:
        raised = f"raised in {first.raised_in.file.rsplit('/', 1)[-1]} line {first.raised_in.line}" if first.raised_in else "no traceback was logged"
        where = f"not in {handler_shown}: {raised}"
    body = (
        f"[bold red]{escape(first.headline)}[/]\n"
        f"[bold]where:[/] {escape(where)}\n"
        f"[bold]when:[/] {escape(first.where)}\n\n"
        f"{escape(first.traceback_text(handler_shown.rsplit('/', 1)[-1]))}\n\n"
        f"[bold]blocks:[/] {escape(blocks)}\n"
        f"[bold]look at:[/] {escape(look_at)}"
    )
    return Panel(body, title="your code raised an error: the run stopped there", border_style="red")


# ------------------------------------------------------------ line budget
PASSING_LINES = 40  # what a passing `make lab-N` may print at 80 columns
FAILING_LINES = 60


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def terminal_rows(text: str, width: int) -> int:
    """The rows `text` takes on a terminal `width` columns wide: a line longer than that folds onto more.

    The budget is of rows, as the learner sees them: a long link or command
    (printed unwrapped so a copy of it is one line) takes several.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return sum(max(1, -(-cell_len(_ANSI.sub("", line)) // max(width, 1))) for line in lines)


class LineCount:
    """Counts the terminal rows a console has written (its file wrapped), so a lab's signal is shown only when it fits."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._written: list[str] = []
        self._file = console.file
        console.file = self  # type: ignore[assignment]

    @property
    def lines(self) -> int:
        """Rows written so far, at the console's width (a line still open counts once it ends)."""
        text = "".join(self._written)
        return terminal_rows(text[: text.rfind("\n") + 1], self.console.width)

    def write(self, text: str) -> int:
        self._written.append(text)
        return self._file.write(text)

    def flush(self) -> None:
        self._file.flush()

    def isatty(self) -> bool:
        return self._file.isatty()

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        """The console writes to its own file again."""
        self.console.file = self._file


def show_signal_within(console: Console, show_signal: Any, run: Any, room: int, command: str) -> None:
    """A lab's signal (lab.py show_signal) when it fits in `room` lines, else one line saying how to see it.

    Under VERBOSE=1 it is always shown. Drawn first on a recording console of
    the same width, so what is counted is what would be printed.
    """
    if not verbose():
        probe = Console(file=io.StringIO(), width=console.width, color_system=None, force_terminal=False)
        show_signal(probe, run)
        drawn = terminal_rows(probe.file.getvalue(), console.width)  # type: ignore[attr-defined]
        if drawn > room - 1:  # its rule too
            console.print(f"What to look at ({drawn} lines): {command}", soft_wrap=True, markup=False, highlight=False)
            return
    console.rule("what to look at")
    show_signal(console, run)
