"""`make lab-N-hint` in three levels: the direction, then the API, then the code, one level per call.

Reading the answer is the learner's choice (issue 22): the first call says
what to change and why without naming the API, so the learner can still find
it on the Powertools page; the next names the API; the last gives the code.
`LEVEL=3` gives the code at once, for a room that must keep pace. The level
reached is kept per lab and stage in the progress file (progress.py owns it),
so the next call goes one further and a stage not asked about starts at 1.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from workshop.labs import progress as saved
from workshop.labs.model import Lab, Stage
from workshop.labs.show import console

LAST_LEVEL = 3
LEVEL_NAMES = {1: "direction", 2: "the API", 3: "the code"}


def level_text(stage: Stage, level: int) -> str:
    """What one level of a stage's hint says (1 `hint`, 2 `api`, 3 `code`)."""
    return {1: stage.hint, 2: stage.api, 3: stage.code}[level]


def _filled(stage: Stage) -> list[int]:
    """The levels the stage has text for: an empty one is skipped, never shown as a blank box."""
    return [level for level in LEVEL_NAMES if level_text(stage, level).strip()]


def level_to_show(stage: Stage, reached: int, asked: int | None) -> int:
    """`asked` (LEVEL=1..3) when given, else one more than `reached`, stopping at the last level."""
    wanted = asked if asked is not None else min(reached + 1, LAST_LEVEL)
    filled = _filled(stage) or [1]
    return next((level for level in filled if level >= wanted), filled[-1])


def what_next(lab: Lab, stage: Stage, level: int) -> str:
    """The line under the hint: which level this was, and what the next call gives."""
    later = next((n for n in _filled(stage) if n > level), None)
    then = (
        f"`make lab-{lab.number}-hint` again for {LEVEL_NAMES[later]}" if later is not None
        else f"the last; `make lab-{lab.number}-solution` shows the whole diff"
    )  # fmt: skip
    return f"level {level} of {LAST_LEVEL}: {LEVEL_NAMES[level]} — {then}"


def show_hint(lab: Lab, stage: Stage, asked: int | None, config: Any, note: str = "") -> int:
    """One level of the stage's hint (see the module's docstring); returns the level shown."""
    level = level_to_show(stage, saved.hint_level(config, lab.number, stage.number), asked)
    text = level_text(stage, level)
    body = Syntax(text.strip("\n"), "python", theme="ansi_dark", word_wrap=True) if level == LAST_LEVEL else Text(text)
    # the stage's title inside the box, not in its border: a border crops a long title at 80 columns
    heading = Text(stage.title, style="bold")
    console.print(Panel(Group(heading, Text(), body), title=f"Lab {lab.number}, stage {stage.number}", border_style="yellow"))
    if note:
        console.print(escape(note))
    console.print(escape(what_next(lab, stage, level)))
    saved.record_hint_level(config, lab.number, stage.number, level)
    return level


def parse_level(text: str) -> int:
    """LEVEL as the learner typed it (`make lab-N-hint LEVEL=3`): 1, 2 or 3, else a clear error."""
    try:
        level = int(text)
    except ValueError:
        level = 0
    if level not in LEVEL_NAMES:
        raise SystemExit(f"LEVEL={escape(repr(text))}: use 1 (the direction), 2 (the API) or 3 (the code)")
    return level
