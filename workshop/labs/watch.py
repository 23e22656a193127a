"""`make watch` / `make lab-N-watch`: run the lab again whenever the learner saves handler.py.

The loop of rustlings: edit, save, see the verdict, with no command to type.
Each run is a whole `make lab-N` (the import check first, so a half-typed
file is answered in a second). The file is watched through its folder with
`watchfiles` (editors save by writing a new file and renaming it over the
old one, which a watch on the file itself would lose); only handler.py
counts. Changes made while a run is going are gathered into the next run.

Ctrl-C, while waiting or during a run, ends it with one line and exit 130
(`__main__`); a run it interrupts stops its checks' subprocess first.
`WORKSHOP_LAB_WATCH_RUNS=N` ends the loop after N runs (for tests: a loop
that proves it stops, without a signal).
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.markup import escape

from workshop.labs import progress as saved
from workshop.labs.commands import cmd_run
from workshop.labs.model import Lab, find_lab
from workshop.labs.show import console, shown

RUNS_ENV = "WORKSHOP_LAB_WATCH_RUNS"


def _lab(number: int | None) -> Lab | None:
    if number is not None:
        return find_lab(number)
    current = saved.current_lab(saved.read_progress())
    return find_lab(current.number) if current else None


def cmd_watch(number: int | None) -> int:
    import watchfiles

    lab = _lab(number)
    if lab is None:
        console.print("Every stage of every lab has passed: nothing to watch. `make lab-N-watch` watches one lab.")
        return 0
    path = lab.handler_path("learner")
    limit = int(os.environ.get(RUNS_ENV, "0") or 0)
    runs = 0
    code = 0
    while True:
        code = cmd_run(find_lab(lab.number)) if path.is_file() else _missing(lab, path)
        runs += 1
        if limit and runs >= limit:
            return code
        console.rule(f"watching {escape(shown(path))}: save it to run lab {lab.number} again · Ctrl-C to stop", style="cyan")
        for changes in watchfiles.watch(path.parent, watch_filter=lambda _change, changed: Path(changed).name == path.name,
                                        debounce=300, raise_interrupt=True):  # fmt: skip
            if changes:
                break


def _missing(lab: Lab, path: Path) -> int:
    console.print(f"[yellow]{escape(shown(path))} is missing[/]: `make lab-{lab.number}-reset` restores the starter; waiting for it.")
    return 1
