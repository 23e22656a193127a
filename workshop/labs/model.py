"""What a lab is: its entry in `workshop/labs/manifest.py`, and the rest from its folder's `lab.py`.

The manifest says which labs there are (number, folder, title, service); a
folder it does not name is not a lab, however it is named, and an entry
whose folder is missing is an error that says so rather than a lab that
silently disappears from `make progress`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from workshop.labs import manifest
from workshop.labs.manifest import LabEntry

TARGETS = ("learner", "starter", "solution")
_STAGE_FILE = re.compile(r"^test_stage_(?P<number>\d+)_[a-z0-9_]+\.py$")


@dataclass(frozen=True)
class Stage:
    """A stage of a lab, and its hint in three levels (`make lab-N-hint` gives one more per call).

    `hint` is the direction (what to change and why, no API named), `api` the
    Powertools or SDK API to use, `code` the code itself. A learner who wants to
    find the answer reads one level at a time; a room that must keep pace asks
    for `LEVEL=3`. An empty level is skipped.
    """

    number: int
    title: str
    hint: str
    api: str = ""
    code: str = ""


@dataclass(frozen=True)
class Pitfall:
    """A known wrong turn: when a failure's text contains `seen`, `advice` is shown instead of the stage's hint.

    A lab's stages fail in order of the story, but a pitfall can make an
    earlier stage fail for a later stage's reason (lab 2: put_annotation in the
    handler body fails the whole execution, so stage 1 fails too); its hint
    would then send the learner back to what they already did.
    """

    seen: str
    advice: str


@dataclass
class Lab:
    number: int
    topic: str
    path: Path
    title: str
    goal: str
    stages: list[Stage]
    payload: dict[str, Any]
    base_function: str = "order-saga"
    env_overrides: dict[str, str | None] = field(default_factory=dict)
    # lab.py's CHECKS_READ_THE_LIVE_RUN: its checks need only the live execution itself (not a
    # payload of their own), so make lab-N's run can be the one they check; see run_checks
    checks_read_the_live_run: bool = False
    module: ModuleType | None = None
    pitfalls: list[Pitfall] = field(default_factory=list)  # lab.py's PITFALLS
    # lab.py's TIME_SCALE: the runner fires the lab function's waits and retry back-offs this many
    # times sooner (workshop/runner/function_scale.py); SCALE_CALLBACK_TIMEOUTS: its callback timeouts too
    time_scale: float = 1.0
    scale_callback_timeouts: bool = False

    @property
    def function_name(self) -> str:
        return f"lab-{self.number}-{self.topic}"

    def handler_path(self, target: str) -> Path:
        """The handler file a target runs: the learner's own, or the pristine starter, or the solution."""
        if target not in TARGETS:
            raise SystemExit(f"LAB_TARGET={target!r}: use one of {', '.join(TARGETS)}")
        return self.path / "handler.py" if target == "learner" else self.path / target / "handler.py"

    def prepare_live(self, config: Any) -> None:
        """The lab's own set-up on the stack before a live run: lab.py's optional `prepare_live(config)`."""
        prepare = getattr(self.module, "prepare_live", None)
        if prepare is not None:
            prepare(config)

    def stage_files(self) -> dict[int, Path]:
        files = {}
        for path in sorted((self.path / "checks").glob("test_stage_*.py")):
            if match := _STAGE_FILE.match(path.name):
                files[int(match["number"])] = path
        return files


def _load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_checks_module(lab_path: Path, name: str) -> ModuleType:
    """A helper module of a lab's checks/ (e.g. lab 2's tracing.py), for the lab's own `show_signal`.

    The lab folders are named lab-N-topic, which Python cannot import as a
    package; loading the file by path also keeps checks/ off sys.path. Kept in
    sys.modules under a per-lab name, so two labs' helpers never collide.
    """
    qualified = f"workshop_{lab_path.name.replace('-', '_')}_checks_{name}"
    if qualified not in sys.modules:
        path = lab_path / "checks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(qualified, path)
        if spec is None or spec.loader is None:
            raise SystemExit(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module  # before it runs: its dataclasses look themselves up there
        spec.loader.exec_module(module)
    return sys.modules[qualified]


def load_lab(path: Path) -> Lab:
    """The lab in a folder (its checks' conftest passes its own folder): the manifest's entry, then its lab.py."""
    return _load(manifest.entry_of(path))


def _load(entry: LabEntry) -> Lab:
    lab_py = entry.path / "lab.py"
    if not lab_py.is_file():
        raise SystemExit(
            f"lab {entry.number} ({entry.title}) is in workshop/labs/manifest.py but {lab_py} does not exist: "
            f"restore workshop/{entry.folder}/ or remove its entry"
        )
    meta = _load_module(lab_py, f"workshop_lab_{entry.number}_meta")
    return Lab(
        number=entry.number,
        topic=entry.topic,
        path=entry.path,
        title=entry.title,
        goal=meta.GOAL,
        stages=list(meta.STAGES),
        payload=dict(meta.PAYLOAD),
        base_function=entry.service,
        env_overrides=dict(getattr(meta, "ENV_OVERRIDES", {})),
        checks_read_the_live_run=bool(getattr(meta, "CHECKS_READ_THE_LIVE_RUN", False)),
        module=meta,
        pitfalls=list(getattr(meta, "PITFALLS", [])),
        time_scale=float(getattr(meta, "TIME_SCALE", 1.0)),
        scale_callback_timeouts=bool(getattr(meta, "SCALE_CALLBACK_TIMEOUTS", False)),
    )


def all_labs() -> list[Lab]:
    """Every lab of the manifest, in its order (by number)."""
    return [_load(entry) for entry in sorted(manifest.LABS, key=lambda e: e.number)]


def find_lab(number: int) -> Lab:
    """One lab by number; only its own lab.py is loaded."""
    entry = manifest.entry(number)
    if entry is None:
        raise SystemExit(f"There is no lab {number}. Labs available: {', '.join(str(e.number) for e in manifest.LABS) or 'none yet'}.")
    return _load(entry)


def current_target() -> str:
    target = os.environ.get("LAB_TARGET", "learner")
    if target not in TARGETS:
        raise SystemExit(f"LAB_TARGET={target!r}: use one of {', '.join(TARGETS)}")
    return target
