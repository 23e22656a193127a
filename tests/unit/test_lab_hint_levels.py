"""Issue 22, "reading the answer is a choice": `make lab-N-hint` in three levels, each README part's code folded.

The hint commands run against a temporary progress file (WORKSHOP_LAB_PROGRESS_FILE),
so the learner's own progress is never touched; nothing here needs the stack.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable

import pytest

from workshop.config import REPO_ROOT, StackConfig
from workshop.labs import commands, progress
from workshop.labs.__main__ import main
from workshop.labs.model import Lab, Stage, all_labs, find_lab
from workshop.labs.show import console

CODE_COLUMNS = 76  # an 80-column terminal, less the hint box's border and padding


@pytest.fixture
def progress_file(tmp_path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv(progress.PATH_ENV, str(path))
    monkeypatch.delenv("LAB_TARGET", raising=False)
    monkeypatch.setattr(commands, "say_if_edited", lambda lab: None)  # no git calls: test_lab_wrong_file covers it
    monkeypatch.setattr(console, "width", 200)
    return path


def _said(command: Callable[[], object]) -> str:
    with console.capture() as captured:
        command()
    return captured.get()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip()


def _shows(said: str, stage: Stage, level: int) -> bool:
    """The level's text is in the output (its first line: Rich wraps the rest at the box's width)."""
    text = {1: stage.hint, 2: stage.api, 3: stage.code}[level]
    flat = " ".join(said.replace("│", " ").split())
    return " ".join(_first_line(text).split()[:6]) in flat


def test_each_call_gives_one_level_more_and_stops_at_the_code(progress_file):
    lab = find_lab(3)
    stage = lab.stages[0]
    said = [_said(lambda: commands.cmd_hint(lab)) for _ in range(4)]
    assert "level 1 of 3: direction — `make lab-3-hint` again for the API" in said[0]
    assert _shows(said[0], stage, 1) and not _shows(said[0], stage, 2) and not _shows(said[0], stage, 3)
    assert "level 2 of 3: the API — `make lab-3-hint` again for the code" in said[1]
    assert _shows(said[1], stage, 2) and not _shows(said[1], stage, 3)
    for again in said[2:]:
        assert "level 3 of 3: the code — the last; `make lab-3-solution` shows the whole diff" in again and _shows(again, stage, 3)
    assert progress.hint_level(StackConfig(), 3, stage.number) == 3


def test_a_hint_asked_before_any_run_is_not_a_run(progress_file):
    lab = find_lab(1)
    said = _said(lambda: commands.cmd_hint(lab))
    assert "no run recorded yet" in said and "level 1 of 3" in said
    mine = progress.lab_progress(1, StackConfig())
    assert mine.last_run is None and mine.runs == 0


def test_level_3_gives_the_code_at_once_and_1_or_2_that_level(progress_file):
    lab = find_lab(2)
    stage = lab.stages[0]
    said = _said(lambda: main(["hint", "2", "--level", "3"]))
    assert "level 3 of 3: the code" in said and _shows(said, stage, 3) and not _shows(said, stage, 1)
    said = _said(lambda: main(["hint", "2", "--level", "1"]))
    assert "level 1 of 3: direction" in said and _shows(said, stage, 1)
    assert "level 2 of 3: the API" in _said(lambda: commands.cmd_hint(lab))  # one further than the level just shown
    assert "level 2 of 3" in _said(lambda: main(["hint", "2", "--level", "2"]))


def test_a_level_that_is_not_one_two_or_three_is_named(progress_file):
    said = _said(lambda: main(["hint", "2", "--level", "4"]))
    assert "LEVEL='4': use 1 (the direction), 2 (the API) or 3 (the code)" in said


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("how", ["argument", "environment"])
def test_make_passes_level_through(how: str):
    """`make lab-3-hint LEVEL=3` and `LEVEL=3 make lab-3-hint` both reach the command (make -n: nothing runs)."""
    env = {**os.environ, "LEVEL": "3"} if how == "environment" else {k: v for k, v in os.environ.items() if k != "LEVEL"}
    args = ["make", "-n", "lab-3-hint"] + (["LEVEL=3"] if how == "argument" else [])
    out = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True).stdout
    assert re.search(r"-m workshop\.labs hint 3 --level '?3'?$", out, re.MULTILINE), out


def test_a_new_stage_starts_at_the_direction(progress_file):
    lab = find_lab(1)
    config = StackConfig()
    for _ in range(2):
        _said(lambda: commands.cmd_hint(lab))
    assert progress.hint_level(config, 1, 1) == 2
    progress.record_run(config, 1, {1: True, 2: False, 3: False}, {"stage": 2, "title": "hint", "text": lab.stages[1].hint, "kind": "hint"})
    said = _said(lambda: commands.cmd_hint(lab))
    assert "stage 2" in said and "level 1 of 3: direction" in said and _shows(said, lab.stages[1], 1)
    assert said.count(_first_line(lab.stages[1].hint)[:40]) == 1  # the run's advice was the hint: shown once
    assert progress.hint_level(config, 1, 1) == 2  # the run kept stage 1's level


def test_the_runs_own_advice_comes_first_then_the_hint_level(progress_file):
    lab = find_lab(2)
    pitfall = {"stage": 1, "title": "a known pitfall", "text": "This is the facade-segment pitfall.", "kind": "pitfall"}
    progress.record_run(StackConfig(), 2, {1: False, 2: False, 3: False}, pitfall)
    said = _said(lambda: commands.cmd_hint(lab))
    assert "facade-segment pitfall" in said and "level 1 of 3: direction" in said
    assert said.index("facade-segment pitfall") < said.index(_first_line(lab.stages[0].hint)[:30])
    assert "level 2 of 3: the API" in _said(lambda: commands.cmd_hint(lab))


# ------------------------------------------------------------------ the texts themselves
def _api_names(api: str) -> set[str]:
    """The identifiers the API level puts in backticks: `Logger(...)`, `@logger.inject_lambda_context`, ...

    Each dotted part that is not a plain lower-case word (inject_lambda_context,
    SqsModel) counts; `context` or `parse` alone are words a direction may use:
    "`Logger(service=...)` and `@logger.inject_lambda_context`" names Logger and
    inject_lambda_context.
    """
    names = set()
    for span in re.findall(r"`([^`]+)`", api):
        head = span.lstrip("@").split("(", 1)[0].strip()
        if re.fullmatch(r"[A-Za-z_][\w.]*", head):
            names |= {part for part in head.split(".") if part and ("_" in part or not part.islower())}
    return names


def _stages() -> list[tuple[Lab, Stage]]:
    return [(lab, stage) for lab in all_labs() for stage in lab.stages]


@pytest.mark.parametrize(("lab", "stage"), _stages(), ids=lambda x: f"lab-{x.number}" if isinstance(x, Lab) else f"stage-{x.number}")
def test_every_stage_has_a_direction_an_api_and_code(lab: Lab, stage: Stage):
    assert stage.hint.strip() and stage.api.strip() and stage.code.strip()
    named = {name for name in _api_names(stage.api) if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", stage.hint)}
    assert _api_names(stage.api) and not named, f"the direction names the API: {sorted(named)}"
    wide = [line for line in stage.code.splitlines() if len(line) > CODE_COLUMNS]
    assert not wide, f"code lines wider than {CODE_COLUMNS} columns: {wide}"


_DETAILS = re.compile(
    r"<details><summary>The code for part (?P<part>\d+)</summary>\n\n```[a-z]*\n(?P<code>.+?)\n```\n\n</details>",
    re.DOTALL,
)


def _parts(readme: str) -> dict[int, str]:
    """Each `## Part K` section of a lab README, up to the next `## ` heading."""
    sections = re.split(r"^(?=## )", readme, flags=re.MULTILINE)
    return {int(m[1]): section for section in sections if (m := re.match(r"## Part (\d+)", section))}


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: f"lab-{lab.number}")
def test_every_readme_part_folds_its_code_away(lab: Lab):
    readme = (lab.path / "README.md").read_text(encoding="utf-8")
    parts = _parts(readme)
    assert parts
    for number, section in parts.items():
        folded = [m for m in _DETAILS.finditer(section) if m["code"].strip()]
        assert [int(m["part"]) for m in folded] == [number], f"Part {number}: one <details> block with its code"
        assert section.count("<details>") == 1, f"Part {number}: one folded block, the part's code"
