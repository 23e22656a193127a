"""The learner's lab progress: one JSON file in the state folder, written by `make lab-N`.

Why a module of its own, without a console: `make progress` (workshop.labs
__main__) and the explorer's labs page read the same file, and the explorer
draws HTML, not rich tables. The file maps a lab number to the time of its
last run and each stage's result: ``{"1": {"when": "...", "stages": {"1": true}}}``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from workshop.config import StackConfig


def progress_path(config: StackConfig) -> Path:
    return config.state_dir / "lab-progress.json"


def load_progress(config: StackConfig) -> dict[str, Any]:
    """Every lab's last run; {} when no lab has run yet (or the file is not JSON)."""
    try:
        data = json.loads(progress_path(config).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_progress(config: StackConfig, lab_number: int, stages: dict[int, bool]) -> None:
    """Record one lab's run: each stage passed or not, and when."""
    progress = load_progress(config)
    progress[str(lab_number)] = {"when": time.strftime("%Y-%m-%d %H:%M"), "stages": {str(n): passed for n, passed in stages.items()}}
    path = progress_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(progress, indent=2))
