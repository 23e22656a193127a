"""The watch loop never loses a save: during a run, in the instant after "watching" is printed, or by rename.

The loop runs in a thread with the lab run replaced by a recorder (what
handler.py held when each run began), and the saves are made from inside the
run or from inside the printing of the "watching" rule, so the windows are hit
every time, not by timing. A lost save leaves the loop waiting for a save that
never comes: the thread is still alive at the deadline and the test fails.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from workshop.labs import watch

HANG_DEADLINE_S = 30.0  # far above a run's wake-up (0.5 s) and settling (0.3 s): reached only when a save was lost


@dataclass
class FakeLab:
    folder: Path
    number: int = 1

    def handler_path(self, target: str) -> Path:
        return self.folder / "handler.py"


class Loop:
    """cmd_watch on a fake lab whose runs record the handler's text; hooks act inside a run or the rule."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: int) -> None:
        self.lab = FakeLab(tmp_path)
        self.handler = self.lab.handler_path("learner")
        self.handler.write_text("v1\n")
        self.seen: list[str] = []
        self.rules = 0
        self.during_run: Callable[[int], None] = lambda run: None
        self.on_rule: Callable[[int], None] = lambda rule: None
        self.error: BaseException | None = None
        monkeypatch.setenv(watch.RUNS_ENV, str(runs))
        monkeypatch.setattr(watch, "_lab", lambda number: self.lab)
        monkeypatch.setattr(watch, "find_lab", lambda number: self.lab)
        monkeypatch.setattr(watch, "cmd_run", self._run)
        monkeypatch.setattr(watch.console, "rule", self._rule)
        monkeypatch.setattr(watch.console, "print", lambda *args, **kwargs: None)

    def _run(self, lab: Any) -> int:
        self.seen.append(self.handler.read_text())
        self.during_run(len(self.seen))
        return 1

    def _rule(self, *args: Any, **kwargs: Any) -> None:
        self.rules += 1
        self.on_rule(self.rules)

    def run(self) -> None:
        def target() -> None:
            try:
                watch.cmd_watch(1)
            except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
                self.error = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(HANG_DEADLINE_S)
        if thread.is_alive():
            pytest.fail(f"the watch loop still waits after {HANG_DEADLINE_S:.0f} s: a save was lost. Runs saw {self.seen!r}")
        if self.error is not None:
            raise self.error


def editor_save(path: Path, text: str) -> None:
    """What most editors do: write a new file beside the old one, then rename it over it."""
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text)
    os.replace(temporary, path)


def test_a_save_during_a_run_starts_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = Loop(tmp_path, monkeypatch, runs=2)
    loop.during_run = lambda run: loop.handler.write_text("v2\n") if run == 1 else None
    loop.run()
    assert loop.seen == ["v1\n", "v2\n"]
    assert loop.rules == 0  # run again at once: no "watching" between the two runs


def test_a_save_in_the_instant_after_watching_is_printed_is_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = Loop(tmp_path, monkeypatch, runs=2)
    loop.on_rule = lambda rule: loop.handler.write_text("v2\n")  # before the loop has gone back to waiting
    loop.run()
    assert loop.seen == ["v1\n", "v2\n"]


def test_an_editor_style_save_by_rename_is_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = Loop(tmp_path, monkeypatch, runs=3)
    loop.on_rule = lambda rule: editor_save(loop.handler, f"v{rule + 1}\n")
    loop.run()
    assert loop.seen == ["v1\n", "v2\n", "v3\n"]


def test_several_saves_during_a_run_make_one_run_of_the_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = Loop(tmp_path, monkeypatch, runs=3)
    waited_after: list[list[str]] = []

    def during_run(run: int) -> None:
        if run == 1:
            for version in ("v2\n", "v3\n", "v4\n"):
                editor_save(loop.handler, version)

    def on_rule(rule: int) -> None:
        waited_after.append(list(loop.seen))  # the loop waits only when nothing saved is left to run
        loop.handler.write_text("v5\n")

    loop.during_run, loop.on_rule = during_run, on_rule
    loop.run()
    assert waited_after == [["v1\n", "v4\n"]]
    assert loop.seen == ["v1\n", "v4\n", "v5\n"]


def test_a_deleted_handler_is_waited_for_and_run_when_it_comes_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loop = Loop(tmp_path, monkeypatch, runs=3)
    missing: list[int] = []
    monkeypatch.setattr(watch, "_missing", lambda lab, path: missing.append(len(loop.seen)) or 1)
    loop.on_rule = lambda rule: loop.handler.unlink() if rule == 1 else loop.handler.write_text("back\n")
    loop.run()
    assert loop.seen == ["v1\n", "back\n"] and missing == [1]
