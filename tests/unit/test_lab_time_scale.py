"""The labs whose live run waits on durable timers run them faster, and say so in their header (workshop/labs/show.py)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from workshop.labs import show
from workshop.labs.model import all_labs


def test_the_lab_header_says_when_its_timers_run_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    """One line in the header of a lab with TIME_SCALE (labs 1-3: waits; lab 6: waits and timeouts); none at real time."""
    seen: dict[int, str] = {}
    for lab in all_labs():
        out = io.StringIO()
        monkeypatch.setattr(show, "console", Console(file=out, width=80, color_system=None))
        show.show_header(lab, None)
        seen[lab.number] = " ".join(out.getvalue().split())
    for number in (1, 2, 3):
        assert "Durable waits run 20x faster here (lab functions only)." in seen[number]
    assert "Durable waits and timeouts run 20x faster here" in seen[6]
    assert "faster" not in seen[4] and "faster" not in seen[5]  # the ingest's retries keep real time
