"""docs/INSTRUCTOR.md's agendas: the times add up to the length each heading promises, and every lab has a place."""

from __future__ import annotations

import re

import pytest

from workshop.config import REPO_ROOT
from workshop.labs.manifest import LABS

PAGE = (REPO_ROOT / "docs" / "INSTRUCTOR.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| (\d+):(\d\d) \| (.*?) \| ?(?:(\d+) min)? ?\|$")
AGENDAS = {"## Agenda (about 3 h 30 min)": 210, "## Agenda (2 hours)": 120}


def agenda_rows(heading: str) -> list[tuple[int, str, int | None]]:
    """(start minute, what, planned minutes) of each row of the table under the heading that starts so."""
    at = next((i for i, line in enumerate(PAGE.splitlines()) if line.startswith(heading)), None)
    assert at is not None, f"docs/INSTRUCTOR.md has no heading starting {heading!r}"
    section = PAGE.splitlines()[at + 1 :]
    section = section[: next((i for i, line in enumerate(section) if line.startswith("#")), len(section))]
    rows = []
    for line in section:
        if match := ROW.match(line):
            hours, minutes, what, planned = match.groups()
            rows.append((int(hours) * 60 + int(minutes), what, int(planned) if planned else None))
    return rows


@pytest.mark.parametrize("heading,total", AGENDAS.items())
def test_each_row_starts_when_the_one_before_ends_and_the_last_at_the_promised_length(heading: str, total: int) -> None:
    rows = agenda_rows(heading)

    assert rows and rows[0][0] == 0
    for (start, what, planned), (next_start, _, _) in zip(rows, rows[1:]):
        assert planned is not None and start + planned == next_start, f"{heading}: {what!r} at {start} min + {planned} min"
    assert rows[-1][1] == "end" and rows[-1][0] == total


def test_the_long_agenda_has_every_lab_in_the_room() -> None:
    room = " ".join(what for _, what, _ in agenda_rows("## Agenda (about 3 h 30 min)"))

    assert [lab.number for lab in LABS if f"lab {lab.number}, {lab.title}" in room] == [lab.number for lab in LABS]


def test_the_two_hour_agenda_puts_every_lab_in_the_room_or_in_the_homework() -> None:
    rows = agenda_rows("## Agenda (2 hours)")
    room = {lab.number for lab in LABS if any(what.startswith(f"lab {lab.number}, {lab.title}") for _, what, _ in rows)}
    homework_row = next(what for _, what, _ in rows if what.startswith("homework"))
    homework = {int(n) for n in re.findall(r"\d+", homework_row.split(" then ")[0])}  # "homework: labs 2, 4 and 5, then ..."

    assert room and homework and not room & homework
    assert room | homework == {lab.number for lab in LABS}
