"""The function registry: which functions and event source mappings the local stack runs.

One JSON file in the state folder (``StackConfig.registry_path``), written
whole by the provisioner (``make up``), extended by the lab runner and the
bench (a lab's copy of a service function, a benchmark mapping), and read by
the function host, the CLI and the tools. This module is its one owner:
nothing else opens the file.

Why a lock and a whole-file replace: two writers at once (two labs, two
terminals, a test beside a lab) must not lose each other's entry, and the
function host may read the file at any moment, so it must never see half of
one.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Registry = dict[str, Any]  # {"functions": {name: {...}}, "event_source_mappings": [{...}]}


class RegistryMissing(Exception):
    """No registry yet (the stack was never provisioned), or it is not valid JSON."""


def _path(config: Any) -> Path:
    return Path(config.registry_path)


def exists(config: Any) -> bool:
    return _path(config).exists()


def load(config: Any) -> Registry:
    """The registry as it is now; RegistryMissing says why not, in words for the learner."""
    path = _path(config)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegistryMissing(f"No function registry at {path}: the stack has not been provisioned — start it with `make up`.") from exc
    except ValueError as exc:
        raise RegistryMissing(f"The function registry {path} is not valid JSON: {exc}") from exc


def function(config: Any, name: str) -> dict[str, Any]:
    """One function's entry (KeyError when it is not registered)."""
    return load(config)["functions"][name]


def mapping_of(config: Any, function_name: str) -> dict[str, Any]:
    """The first event source mapping that invokes `function_name` (StopIteration when none does)."""
    return next(m for m in load(config)["event_source_mappings"] if m["function"] == function_name)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _replace(path: Path, registry: Registry) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_text(json.dumps(registry, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)


def write(config: Any, registry: Registry) -> None:
    """Replace the whole registry (the provisioner's write)."""
    path = _path(config)
    with _locked(path):
        _replace(path, registry)


def update(config: Any, change: Callable[[Registry], None]) -> None:
    """Change the registry in place: a locked read-modify-write; the function host re-reads it."""
    path = _path(config)
    with _locked(path):
        registry = load(config)
        change(registry)
        _replace(path, registry)


def register_copy(config: Any, name: str, code_dir: str, base_function: str, env_overrides: dict[str, str | None]) -> None:
    """Add (or refresh) `name`: a copy of a provisioned function running other code (a lab's handler).

    It copies the base function's settings (tables, timeouts, durable config)
    and adds services/ to its import path. `make up` rewrites the registry from
    the template, so the lab runner registers again before every run.
    """
    from workshop.config import REPO_ROOT

    def add(registry: Registry) -> None:
        base = registry["functions"].get(base_function)
        if base is None:
            raise SystemExit(f"{base_function} is not provisioned in {config.registry_path}: run `make up` first.")
        environment = dict(base.get("environment", {}))
        for key, value in env_overrides.items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        registry["functions"][name] = {
            **base,
            "logical_id": None,
            # as the function host sees them (the compose stack mounts the repository elsewhere)
            "code_dir": config.stack_path(code_dir),
            "handler": "handler.lambda_handler",
            "python_path": [config.stack_path(REPO_ROOT / "services")],
            "environment": environment,
            "log_group": f"/aws/lambda/{name}",
        }

    update(config, add)


class Watched:
    """The registry as the function host sees it: read again whenever the file changes."""

    def __init__(self, config: Any) -> None:
        self._path = _path(config)
        self._mtime = -1.0
        self._data: Registry = {"functions": {}, "event_source_mappings": []}
        self._lock = threading.Lock()

    def current(self) -> Registry:
        with self._lock:
            try:
                mtime = self._path.stat().st_mtime
            except FileNotFoundError:
                return self._data
            if mtime != self._mtime:
                self._data = json.loads(self._path.read_text(encoding="utf-8"))
                self._mtime = mtime
            return self._data
