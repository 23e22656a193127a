"""`make watch` / `make lab-N-watch`: run the lab again whenever the learner saves handler.py.

The loop of rustlings: edit, save, see the verdict, with no command to type.
Each run is a whole `make lab-N` (the import check first, so a half-typed
file is answered in a second).

No save is lost. What decides whether to run again is the file itself: its
fingerprint (content digest, size, modification time) as the last run began,
compared with the file now. It is compared as soon as a run ends (a save made
while the lab was running starts the next run at once, however many saves it
was) and again each time the watcher wakes. The watcher (`watchfiles`, one for
the whole loop, watching the folder, since editors save by writing a new file
and renaming it over the old one) only makes the wake-up immediate; it also
wakes every half second on its own, so a save made before it was armed, or one
a file system failed to report, is still seen. A save is run once the file has
stopped changing for a moment, so an editor's several writes make one run.

Ctrl-C, while waiting or during a run, ends it with one line and exit 130
(`__main__`); a run it interrupts stops its checks' subprocess first.
`WORKSHOP_LAB_WATCH_RUNS=N` ends the loop after N runs (for tests: a loop
that proves it stops, without a signal).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from rich.markup import escape

from workshop.labs import progress as saved
from workshop.labs.commands import cmd_run
from workshop.labs.model import Lab, find_lab
from workshop.labs.show import console, shown

RUNS_ENV = "WORKSHOP_LAB_WATCH_RUNS"
WAKE_MS = 500  # the watcher's own wake-up: the longest a missed event can delay a run
QUIET_S = 0.3  # a save is run once the file has been still this long (an editor's several writes make one run)
SETTLE_DEADLINE_S = 5.0  # a file still changing after this is run as it is then

Fingerprint = tuple[int, int, str] | None  # (mtime_ns, size, sha256), None while the file is missing


def fingerprint(path: Path) -> Fingerprint:
    """What the file holds now; a save that rewrites the same text still changes the modification time."""
    try:
        stat = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size, digest)


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
    wakes = watchfiles.watch(path.parent, watch_filter=lambda _change, changed: Path(changed).name == path.name,
                             debounce=300, rust_timeout=WAKE_MS, yield_on_timeout=True, raise_interrupt=True)  # fmt: skip
    with closing(wakes):
        runs = 0
        while True:
            ran = fingerprint(path)
            code = cmd_run(find_lab(lab.number)) if ran is not None else _missing(lab, path)
            runs += 1
            if limit and runs >= limit:
                return code
            if fingerprint(path) != ran:
                console.print(f"[cyan]{escape(shown(path))} was saved during the run: running lab {lab.number} again[/]")
            else:
                console.rule(f"watching {escape(shown(path))}: save it to run lab {lab.number} again · Ctrl-C to stop", style="cyan")
                _until_changed(wakes, path, ran)
            _settle(path)


def _until_changed(wakes: Iterator[set], path: Path, ran: Fingerprint) -> None:
    """Wait until the file differs from what the last run began with; each wake-up (a change or the timeout) checks."""
    for _changes in wakes:
        if fingerprint(path) != ran:
            return


def _settle(path: Path) -> None:
    """Return once the file has not changed for QUIET_S (or after SETTLE_DEADLINE_S, whatever it holds then)."""
    deadline = time.monotonic() + SETTLE_DEADLINE_S
    last, still_since = fingerprint(path), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(QUIET_S / 3)
        now = fingerprint(path)
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= QUIET_S:
            return


def _missing(lab: Lab, path: Path) -> int:
    console.print(f"[yellow]{escape(shown(path))} is missing[/]: `make lab-{lab.number}-reset` restores the starter; waiting for it.")
    return 1
