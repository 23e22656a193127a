"""Issue 22, "wrong file": an edited starter/ or solution/ is named first, and reset restores the committed starter.

Each test works on lab 1's folder in a temporary git repository (pristine.COMMITTED_LABS
points there), so the repository's own files and history are never touched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from workshop.config import REPO_ROOT
from workshop.labs import commands, manifest, pristine
from workshop.labs.model import find_lab
from workshop.labs.show import console

ENTRY = manifest.entry(1)
WARNING = "the wrong file?"
EDIT = "\n# my logger changes\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
                   cwd=repo, check=True, capture_output=True)  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding lab 1 as committed; the lab commands read lab 1 from it."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    shutil.copytree(ENTRY.path, repo / ENTRY.folder, ignore=shutil.ignore_patterns("__pycache__", "*.bak-*"))
    (repo / ENTRY.folder / "handler.py").write_text((repo / ENTRY.folder / "starter" / "handler.py").read_text())
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "lab 1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setattr(pristine, "COMMITTED_LABS", repo)
    monkeypatch.setattr(manifest, "LABS_DIR", repo)
    monkeypatch.setattr(manifest, "LABS", (ENTRY,))
    monkeypatch.setenv("WORKSHOP_LAB_PROGRESS_FILE", str(tmp_path / "progress.json"))
    monkeypatch.delenv("LAB_TARGET", raising=False)
    monkeypatch.setattr(console, "width", 400)  # one message, one line: no wrapping to match across
    return repo


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + EDIT)


def _said(command: Callable[[], object]) -> str:
    with console.capture() as captured:
        command()
    return captured.get()


def _first_panel(text: str) -> str:
    return text.split("╰", 1)[0]


def test_an_edited_starter_is_named_and_an_unchanged_handler_too(repo: Path):
    lab = find_lab(1)
    _edit(lab.handler_path("starter"))
    text = pristine.notice(lab)
    assert text is not None
    assert re.search(r"You edited \S*lab-1-logger/starter/handler\.py, not handler\.py: your changes there are not run\.", text)
    assert "Copy them into handler.py, and `git checkout -- " in text and "restores the starter." in text
    assert "is still the starter: unchanged" in text


def test_an_edited_solution_is_named_and_a_changed_handler_is_not_called_unchanged(repo: Path):
    lab = find_lab(1)
    _edit(lab.handler_path("solution"))
    _edit(lab.handler_path("learner"))
    text = pristine.notice(lab)
    assert text is not None and re.search(r"You edited \S*lab-1-logger/solution/handler\.py", text)
    assert "restores the solution." in text and "still the starter" not in text


def test_a_clean_checkout_says_nothing(repo: Path):
    lab = find_lab(1)
    assert pristine.notice(lab) is None
    said = _said(lambda: commands.cmd_reset(lab))
    assert WARNING not in said and "handler.py is already the starter: nothing to reset." in said


@pytest.mark.parametrize("why", ["not a git checkout", "no git installed"])
def test_outside_git_nothing_is_said(repo: Path, monkeypatch: pytest.MonkeyPatch, why: str):
    lab = find_lab(1)
    _edit(lab.handler_path("starter"))
    if why == "not a git checkout":
        shutil.rmtree(repo / ".git")
    else:
        monkeypatch.setenv("PATH", str(repo / "no-such-bin"))
    assert pristine.notice(lab) is None
    assert WARNING not in _said(lambda: commands.cmd_hint(lab))


def test_a_copy_of_the_lab_folders_is_compared_with_the_repositorys_lab(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """WORKSHOP_LABS_DIR: a copy outside the repository, compared with the committed lab of the same folder name."""
    copy = tmp_path / "copy"
    shutil.copytree(repo / ENTRY.folder, copy / ENTRY.folder)
    monkeypatch.setattr(manifest, "LABS_DIR", copy)
    lab = find_lab(1)
    assert pristine.notice(lab) is None
    _edit(lab.handler_path("starter"))
    assert f"copy/{ENTRY.folder}/starter/handler.py" in (pristine.notice(lab) or "")  # from the folder holding the copy


@pytest.mark.parametrize("name", ["hint", "solution", "reset", "progress"])
def test_each_command_names_the_edited_starter_first(repo: Path, name: str):
    lab = find_lab(1)
    _edit(lab.handler_path("starter"))
    command = {"hint": lambda: commands.cmd_hint(lab), "solution": lambda: commands.cmd_solution(lab),
               "reset": lambda: commands.cmd_reset(lab), "progress": commands.cmd_progress}[name]  # fmt: skip
    first = _first_panel(_said(command))
    assert WARNING in first and "lab-1-logger/starter/handler.py, not handler.py" in first


class _StackStarted(Exception):
    """Raised where `make lab-N` would start the stack: the test needs only what it said before."""


def test_run_names_the_edited_starter_before_its_header(repo: Path, monkeypatch: pytest.MonkeyPatch):
    from workshop import stack

    def up(*_args: object, **_kwargs: object) -> None:
        raise _StackStarted

    monkeypatch.setattr(stack, "ready", lambda *_args: False)  # so make lab-N calls up
    monkeypatch.setattr(stack, "up", up)
    monkeypatch.setattr(commands, "import_problem", lambda *_args: None)  # no import-check subprocess
    lab = find_lab(1)
    _edit(lab.handler_path("starter"))
    with console.capture() as captured, pytest.raises(_StackStarted):
        commands.cmd_run(lab)
    said = captured.get()
    assert WARNING in said and said.index(WARNING) < said.index("Lab 1 — Logger")


def test_reset_restores_the_committed_starter_not_the_edited_one(repo: Path):
    lab = find_lab(1)
    committed = lab.handler_path("starter").read_text()
    _edit(lab.handler_path("starter"))
    mine = lab.handler_path("learner")
    mine.write_text(committed + "\n# my handler changes\n")
    said = _said(lambda: commands.cmd_reset(lab))
    assert mine.read_text() == committed
    assert "Restored the committed starter (git HEAD), not " in said and "which was edited" in said
    backups = list(mine.parent.glob("handler.py.bak-*"))
    assert len(backups) == 1 and backups[0].read_text().endswith("# my handler changes\n")


def test_the_solution_diff_is_against_the_committed_solution(repo: Path):
    lab = find_lab(1)
    lab.handler_path("solution").write_text(lab.handler_path("learner").read_text())  # "solved" by editing solution/
    said = _said(lambda: commands.cmd_solution(lab))
    assert "Your handler.py is the solution" not in said and "solution/handler.py" in said


def test_the_repositorys_labs_are_found_where_they_are_committed():
    assert pristine.COMMITTED_LABS == REPO_ROOT / "workshop"
