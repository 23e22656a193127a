"""The progress file (`<state dir>/lab-progress.json`): written and read here only.

`make lab-N` records every run of the learner's own handler; `make progress`,
`make next`, `make lab-N-hint` and the header of `make lab-N` read it back,
and so may any other view (the browser explorer's Labs page) through
`read_progress()`: nothing else opens the file.

Per lab it keeps the last run (when, and each stage's result) and the best
result per stage (passed in any run so far), so a learner who finished lab 1
and then experiments still sees lab 1 done, with the last run beside it.
A file from before `best` existed reads as if its last run were the best.
Beside the labs, `hint_levels` keeps how far `make lab-N-hint` has gone for
each lab and stage (1 direction, 2 the API, 3 the code), so the next call
gives one level more; it sits outside the labs' entries because a hint asked
before any run must not read as a run.
`WORKSHOP_LAB_PROGRESS_FILE` puts the file elsewhere (the workshop's own
tests give each test a file of its own beside the one stack they share).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "lab-progress.json"


@dataclass(frozen=True)
class StageProgress:
    number: int
    title: str
    best: bool  # passed in some run
    last: bool | None  # in the last run; None: never run


@dataclass(frozen=True)
class LabProgress:
    number: int
    title: str
    folder: str
    stages: tuple[StageProgress, ...]
    last_run: str | None  # "YYYY-MM-DD HH:MM" of the last recorded run; None: never run
    runs: int
    # the advice the last run showed under its first failing stage ({"stage", "title", "text", "kind"}), if any
    last_advice: dict[str, Any] | None = None
    last_at: float = 0.0  # seconds since the epoch of the last run (0: never, or a file from before)

    @property
    def done(self) -> bool:
        """Every stage has passed (in some run)."""
        return all(stage.best for stage in self.stages)

    @property
    def first_unpassed(self) -> StageProgress | None:
        """The first stage that has not passed yet (best), else the first failing in the last run."""
        return next((s for s in self.stages if not s.best), None) or next((s for s in self.stages if s.last is False), None)


PATH_ENV = "WORKSHOP_LAB_PROGRESS_FILE"


def progress_path(config: Any) -> Path:
    override = os.environ.get(PATH_ENV)
    return Path(override) if override else Path(config.state_dir) / FILE_NAME


def _load(config: Any) -> dict[str, Any]:
    try:
        data = json.loads(progress_path(config).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_progress(config: Any = None) -> list[LabProgress]:
    """Every lab of the manifest, in order, with what the progress file says of it (the one reader)."""
    from workshop.config import StackConfig
    from workshop.labs.model import all_labs

    saved = _load(config or StackConfig())
    labs = []
    for lab in all_labs():
        entry = saved.get(str(lab.number)) or {}
        last = entry.get("stages") or {}
        best = entry.get("best") or last
        stages = tuple(
            StageProgress(s.number, s.title, best=bool(best.get(str(s.number))), last=last.get(str(s.number)) if last else None)
            for s in lab.stages
        )
        labs.append(LabProgress(lab.number, lab.title, lab.path.name, stages, entry.get("when"),
                                int(entry.get("runs", 1 if entry else 0)), entry.get("advice"), float(entry.get("at", 0.0))))  # fmt: skip
    return labs


def lab_progress(number: int, config: Any = None) -> LabProgress | None:
    return next((lab for lab in read_progress(config) if lab.number == number), None)


def record_run(config: Any, lab_number: int, stages: dict[int, bool | None], advice: dict[str, Any] | None = None) -> None:
    """One run of the learner's handler: the last run replaced, the best kept (whole-file replace).

    A stage given as None was not checked (the run raised before the checks):
    it keeps the mark it had, so a learner's passed stage does not turn ✗
    because a later edit raised. `advice`: what the run showed under its first
    failing stage (or for its error), for `make lab-N-hint`.
    """
    data = _load(config)
    entry = data.get(str(lab_number)) or {}
    best = dict(entry.get("best") or entry.get("stages") or {})
    previous = entry.get("stages") or {}
    for number, passed in stages.items():
        best[str(number)] = bool(best.get(str(number))) or bool(passed)
    last = {str(n): previous.get(str(n)) if passed is None else passed for n, passed in stages.items()}
    data[str(lab_number)] = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "at": time.time(),  # to the second: which lab was run last (current_lab)
        "stages": {n: passed for n, passed in last.items() if passed is not None},
        "best": best,
        "runs": int(entry.get("runs", 1 if entry else 0)) + 1,
    }
    if advice:
        data[str(lab_number)]["advice"] = advice
    _save(config, data)


HINT_LEVELS = "hint_levels"


def hint_level(config: Any, lab_number: int, stage_number: int) -> int:
    """The hint level `make lab-N-hint` last gave for this stage (0: none yet, so the next is 1)."""
    try:
        return int(((_load(config).get(HINT_LEVELS) or {}).get(str(lab_number)) or {}).get(str(stage_number), 0))
    except (TypeError, ValueError, AttributeError):
        return 0  # a hand-edited file: start again at the direction


def record_hint_level(config: Any, lab_number: int, stage_number: int, level: int) -> None:
    """The level just shown for this stage: the next `make lab-N-hint` gives the one after it."""
    data = _load(config)
    levels = data.get(HINT_LEVELS) if isinstance(data.get(HINT_LEVELS), dict) else {}
    lab = levels.get(str(lab_number)) if isinstance(levels.get(str(lab_number)), dict) else {}
    data[HINT_LEVELS] = {**levels, str(lab_number): {**lab, str(stage_number): level}}
    _save(config, data)


def _save(config: Any, data: dict[str, Any]) -> None:
    path = progress_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
    partial.replace(path)  # a reader never sees half a file


def next_lab(progress: list[LabProgress]) -> LabProgress | None:
    """The first lab with a stage that has not passed yet (never run counts); None when all are done."""
    return next((lab for lab in progress if not lab.done), None)


def current_lab(progress: list[LabProgress]) -> LabProgress | None:
    """The lab being worked on: the one run last, unless it is done; then the next one not done."""
    ran = [lab for lab in progress if lab.last_run is not None]
    last = max(ran, key=lambda lab: (lab.last_at, lab.last_run or ""), default=None)
    if last is not None and not last.done:
        return last
    return next_lab(progress)


def next_command(progress: list[LabProgress]) -> str:
    """What to run next, as `make progress` ends."""
    lab = next_lab(progress)
    if lab is None:
        return "every stage of every lab has passed: compare with the solutions (make lab-N-solution)"
    stage = lab.first_unpassed
    if lab.last_run is None:
        return f"make lab-{lab.number}   (lab {lab.number}, {lab.title}: not run yet)"
    return f"make lab-{lab.number}   (lab {lab.number}, stage {stage.number}: {stage.title})" if stage else f"make lab-{lab.number}"
