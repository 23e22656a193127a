"""The labs whose live run waits on durable timers run them faster, and say so in their header (workshop/labs/show.py)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from workshop.labs import show
from workshop.labs.model import all_labs
from workshop.labs.progress import LabProgress
from workshop.labs.verdict import VERBOSE_ENV


def headers(monkeypatch: pytest.MonkeyPatch, progress: LabProgress | None) -> dict[int, str]:
    """Each lab's header as printed at 80 columns, its whitespace folded."""
    seen: dict[int, str] = {}
    for lab in all_labs():
        out = io.StringIO()
        monkeypatch.setattr(show, "console", Console(file=out, width=80, color_system=None))
        show.show_header(lab, progress)
        seen[lab.number] = " ".join(out.getvalue().split())
    return seen


def test_the_lab_header_says_when_its_timers_run_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    """One line in the first run's header of a lab with TIME_SCALE (labs 1-3: waits; lab 6: waits and timeouts); none at real time."""
    seen = headers(monkeypatch, None)
    for number in (1, 2, 3):
        assert "Durable waits run 20x faster here (lab functions only)." in seen[number]
    assert "Durable waits and timeouts run 20x faster here" in seen[6]
    assert "faster" not in seen[4] and "faster" not in seen[5]  # the ingest's retries keep real time


def test_later_runs_say_it_with_the_whole_timeline_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first run the compact verdict shows no durations, and the row goes back to it; VERBOSE=1 shows both."""
    later = LabProgress(number=1, title="Logger", folder="lab-1-logger", stages=(), last_run="2026-12-07 06:00", runs=1)
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    assert "faster" not in headers(monkeypatch, later)[1]
    monkeypatch.setenv(VERBOSE_ENV, "1")
    assert "Durable waits run 20x faster here" in headers(monkeypatch, later)[1]


def test_the_line_costs_no_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """It takes the blank row after the goal: the header is as tall as the same lab's at real time (the line budget)."""
    lab = next(lab for lab in all_labs() if lab.number == 6)
    heights = []
    for variant in (lab, dataclasses.replace(lab, time_scale=1.0)):
        out = io.StringIO()
        monkeypatch.setattr(show, "console", Console(file=out, width=80, color_system=None))
        show.show_header(variant, None)
        heights.append(len(out.getvalue().splitlines()))
    assert heights[0] == heights[1]
