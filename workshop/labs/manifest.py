"""The labs: which there are, in what order, what each is called and which service it uses.

This is the one list. The lab runner (`workshop.labs.model.all_labs`,
`load_lab`), `make help` (`python3 -m workshop.labs.manifest range`) and the
unit test that holds the README's lab table to it all read it, so adding,
renaming or renumbering a lab is one entry here plus its folder; a folder
`workshop/lab-N-topic/` with no entry here is not a lab.

What stays in each folder's `lab.py` is what only the lab runner needs: the
goal, the stages, the live run's payload and environment, the lab's own
`show_signal`. The stages stay there, not here, because a stage's title and
its hint are one piece of teaching (the hint says how to pass the stage the
title names) and its number is the one in the folder's
`checks/test_stage_<n>_*.py`: a lab author edits the three side by side, and
nothing outside the lab runner shows a stage without loading the lab. The
stages reach everything else through `Lab.stages`, never copied here.

Standard library only, and no import of the rest of the workshop: `make help`
runs this module with the system Python before any virtual environment exists.

`WORKSHOP_LABS_DIR` names another folder holding the lab folders (copies of
them): the workshop's own tests run the lab commands on such a copy, so a test
that deletes or breaks a learner's handler.py never touches the repository's.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

# workshop/: the lab folders sit beside labs/ (WORKSHOP_LABS_DIR: a copy of them, for tests)
LABS_DIR = Path(os.environ.get("WORKSHOP_LABS_DIR") or Path(__file__).resolve().parent.parent).resolve()


@dataclass(frozen=True)
class LabEntry:
    number: int
    folder: str  # workshop/<folder>/, named lab-<number>-<topic>; also the lab's function's name
    title: str  # the Powertools utility the lab teaches, as `make progress` and the lab's header show it
    service: str  # the registered function the lab's copy is based on: its tables, settings and environment

    def __post_init__(self) -> None:
        if not self.folder.startswith(f"lab-{self.number}-") or self.folder != self.folder.lower():
            raise ValueError(f"lab {self.number}: folder {self.folder!r} must be named lab-{self.number}-<topic>")

    @property
    def topic(self) -> str:
        return self.folder.removeprefix(f"lab-{self.number}-")

    @property
    def path(self) -> Path:
        return LABS_DIR / self.folder


LABS: tuple[LabEntry, ...] = (
    LabEntry(1, "lab-1-logger", "Logger", service="order-saga"),
    LabEntry(2, "lab-2-tracer", "Tracer", service="order-saga"),
    LabEntry(3, "lab-3-metrics", "Metrics", service="order-saga"),
    LabEntry(4, "lab-4-idempotency", "Idempotency", service="ingest"),
    LabEntry(5, "lab-5-parser", "Parser", service="ingest"),
    LabEntry(6, "lab-6-parameters", "Parameters", service="approval-wait"),
)


def entry(number: int) -> LabEntry | None:
    return next((lab for lab in LABS if lab.number == number), None)


def entry_of(path: str | Path) -> LabEntry:
    """The entry of a lab folder (a lab's own lab.py and checks find themselves by their folder)."""
    name = Path(path).name
    found = next((lab for lab in LABS if lab.folder == name), None)
    if found is None:
        raise SystemExit(f"{path} is not a lab: workshop/labs/manifest.py has no entry for the folder {name!r}")
    return found


def numbers_text(numbers: list[int] | None = None) -> str:
    """The lab numbers as `make help` says them: "1-6" when they run without a gap, else "1, 3, 4"."""
    numbers = sorted(lab.number for lab in LABS) if numbers is None else sorted(numbers)
    if not numbers:
        return "none yet"
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(map(str, numbers))


def main(argv: list[str]) -> int:
    """`range`: the numbers for `make help`'s lab lines; no argument: one line a lab."""
    if argv == ["range"]:
        print(numbers_text())
        return 0
    if argv:
        print("usage: python3 -m workshop.labs.manifest [range]", file=sys.stderr)
        return 2
    for lab in LABS:
        print(f"{lab.number}  {lab.title:<12} {lab.service:<14} workshop/{lab.folder}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
