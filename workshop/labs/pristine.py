"""The committed starter and solution: noticing a learner who edited one of them instead of handler.py.

Editing `starter/handler.py` by mistake looks like nothing worked: `make lab-N`
runs handler.py, unchanged, and fails as the starter does. And `make
lab-N-reset`, copying the working starter, would restore the mistake. So each
lab command compares the lab's starter/ and solution/ handler with the version
committed at HEAD and says so first when they differ; reset restores the
committed starter then.

The committed version is read from the repository that holds this package
(`COMMITTED_LABS`), under the lab's folder name, so a copy of the lab folders
elsewhere (WORKSHOP_LABS_DIR, in the workshop's tests) is compared with the
repository's own lab. Where git cannot say (not installed, a zip download, a
file never committed), nothing is said: a guess would send a learner after a
mistake they did not make.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from workshop.labs.model import Lab
from workshop.labs.show import shown

# workshop/ of the repository: where the committed lab folders are, whatever WORKSHOP_LABS_DIR says
COMMITTED_LABS = Path(__file__).resolve().parent.parent
COPIES = ("starter", "solution")
GIT_DEADLINE_S = 10.0


def committed_text(folder: str, target: str) -> str | None:
    """`<folder>/<target>/handler.py` as committed at HEAD; None when git cannot tell (no git, not a checkout, not committed)."""
    try:
        shown_file = subprocess.run(
            ["git", "show", f"HEAD:./{folder}/{target}/handler.py"],
            cwd=COMMITTED_LABS, capture_output=True, text=True, encoding="utf-8", errors="replace", check=False,
            timeout=GIT_DEADLINE_S,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):  # git not installed, or hung (a lock, a network file system): say nothing
        return None
    return shown_file.stdout if shown_file.returncode == 0 else None


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")  # universal newlines, as git's text above: CRLF checkouts compare equal
    except (FileNotFoundError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class EditedCopy:
    """A lab's starter/ or solution/ handler whose working copy differs from the committed one."""

    target: str  # "starter" or "solution"
    path: Path  # the working copy
    committed: str  # its text at HEAD
    working: str | None  # its text now; None: deleted


def edited_copies(lab: Lab, targets: tuple[str, ...] = COPIES) -> list[EditedCopy]:
    """The lab's starter and solution handlers (or those of `targets`) that differ from HEAD (none when git cannot tell)."""
    edited = []
    for target in targets:
        committed = committed_text(lab.path.name, target)
        path = lab.handler_path(target)
        working = _text(path)
        if committed is not None and working != committed:
            edited.append(EditedCopy(target, path, committed, working))
    return edited


def pristine(lab: Lab, target: str) -> tuple[str, str]:
    """The starter's (or solution's) text, and what to call it: the committed one when the working copy was edited."""
    edited = next(iter(edited_copies(lab, (target,))), None)  # one git call: the other copy does not matter here
    if edited is not None:
        return edited.committed, f"the committed {target} (git HEAD), not {shown(edited.path)}, which was edited"
    return lab.handler_path(target).read_text(encoding="utf-8"), f"the {target}"


def notice(lab: Lab) -> str | None:
    """What to tell a learner who edited the starter or the solution instead of handler.py; None when they did not."""
    edited = edited_copies(lab)
    if not edited:
        return None
    mine = _text(lab.handler_path("learner"))
    lines = []
    for copy in edited:
        where = shown(copy.path)
        restore = f"`git checkout -- {where}` restores the {copy.target}."
        if copy.working is None:
            lines.append(f"You deleted {where}: {restore}")
        elif mine == copy.working:
            lines.append(f"You edited {where}; handler.py holds the same changes, so they are run. {restore}")
        else:
            lines.append(f"You edited {where}, not handler.py: your changes there are not run. Copy them into handler.py, and {restore}")
    # an unedited starter is its committed text already: no second git call for it
    starter = next((copy.committed for copy in edited if copy.target == "starter"), None) or _text(lab.handler_path("starter"))
    if mine is not None and mine == starter:
        lines.append(f"Your handler.py, the file `make lab-{lab.number}` runs, is still the starter: unchanged.")
    return "\n".join(lines)
