"""The parameter overrides each deployed stack was deployed with, kept for `make up` to deploy it again.

Why not in the function registry: NoEcho parameters are secrets, and the
registry is read by the function host and shown by tools. Here each stack has
one file, readable by its owner only, that nothing prints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workshop.config import StackConfig


def _path(config: StackConfig, stack_name: str) -> Path:
    return config.state_dir / "stacks" / f"{stack_name}.parameters.json"


def save(config: StackConfig, stack_name: str, overrides: dict[str, str]) -> None:
    path = _path(config, stack_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(overrides, handle, sort_keys=True)
    os.replace(partial, path)


def load(config: StackConfig, stack_name: str) -> dict[str, str]:
    try:
        return json.loads(_path(config, stack_name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def forget(config: StackConfig, stack_name: str) -> None:
    _path(config, stack_name).unlink(missing_ok=True)
