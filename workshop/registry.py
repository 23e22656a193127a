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

from workshop.paste import pasteable
from workshop.runner import function_configs
from workshop.watched_file import WatchedFile

# {"functions": {name: {...}}, "event_source_mappings": [{...}], "stacks": {name: {...}}}
# Each function and mapping names the stack (template) it came from under "stack";
# "stacks" remembers each deployed template: its file, its parameter overrides,
# the emulator resources it created and its functions.
Registry = dict[str, Any]
WORKSHOP_STACK = "workshop"  # infra/template.yaml's, provisioned by every `make up`


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


def load_or_empty(config: Any) -> Registry:
    """The registry, or an empty one when the stack was never provisioned (a first deploy, a first provision)."""
    return load(config) if exists(config) else {"functions": {}, "event_source_mappings": [], "stacks": {}}


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


def update(config: Any, change: Callable[[Registry], None], then: Callable[[Registry], None] | None = None) -> None:
    """Change the registry in place: a locked read-modify-write; the function host re-reads it.

    `then` runs with the changed registry while the lock is still held (a file derived from it).
    """
    path = _path(config)
    with _locked(path):
        registry = load(config)
        change(registry)
        _replace(path, registry)
        if then is not None:
            then(registry)


def stack_of(entry: dict[str, Any]) -> str | None:
    """The stack a function or mapping belongs to; None for a lab's copy or a benchmark's mapping.

    Entries written before stacks were recorded came from infra/template.yaml.
    """
    return entry.get("stack") or (WORKSHOP_STACK if entry.get("logical_id") else None)


def stacks(registry: Registry) -> dict[str, dict[str, Any]]:
    return registry.get("stacks") or {}


class StackClash(Exception):
    """A stack wants a name (function, table, queue...) another deployed stack already has."""


def check_function_names(registry: Registry, stack: str, names: list[str]) -> None:
    for name in names:
        entry = registry.get("functions", {}).get(name)
        owner = stack_of(entry) if entry else None
        if entry is not None and owner != stack:
            where = stacks(registry).get(owner or "", {}).get("template", "a lab or a benchmark")
            raise StackClash(
                f"function name {name!r} is already deployed by stack {owner or '(none)'} ({where}); "
                f"rename it in the template, or remove the other one first ({pasteable(['workshop', 'delete', owner or 'STACK'])})"
            )


def replace_stack(config: Any, name: str, functions: dict[str, Any], mappings: list[dict[str, Any]], record: dict[str, Any]) -> None:
    """One stack's functions, mappings and record replace its previous ones; every other stack's stay.

    Checked again under the lock, so two deploys at once cannot both take a name.
    """

    def change(registry: Registry) -> None:
        check_function_names(registry, name, list(functions))
        registry["functions"] = {
            key: entry for key, entry in registry.get("functions", {}).items() if stack_of(entry) != name
        }
        registry["functions"].update({key: {**entry, "stack": name} for key, entry in functions.items()})
        registry["event_source_mappings"] = [
            m for m in registry.get("event_source_mappings", []) if stack_of(m) != name
        ] + [{**m, "stack": name} for m in mappings]
        registry.setdefault("stacks", {})[name] = record

    _update_or_create(config, change)


def remove_stack(config: Any, name: str) -> dict[str, Any] | None:
    """Forget a stack: its functions, mappings and record. Returns the record (None: not deployed)."""
    removed: list[dict[str, Any]] = []

    def change(registry: Registry) -> None:
        record = stacks(registry).pop(name, None)
        if record is None:
            return
        removed.append(record)
        registry["functions"] = {k: e for k, e in registry.get("functions", {}).items() if stack_of(e) != name}
        registry["event_source_mappings"] = [m for m in registry.get("event_source_mappings", []) if stack_of(m) != name]

    _update_or_create(config, change)
    return removed[0] if removed else None


def _update_or_create(config: Any, change: Callable[[Registry], None]) -> None:
    path = _path(config)
    with _locked(path):
        registry = load_or_empty(config)
        change(registry)
        _replace(path, registry)


def register_copy(
    config: Any,
    name: str,
    code_dir: str,
    base_function: str,
    env_overrides: dict[str, str | None],
    timeout_s: int | None = None,
    time_scale: float | None = None,
    scale_callback_timeouts: bool = False,
) -> None:
    """Add (or refresh) `name`: a copy of a provisioned function running other code (a lab's handler).

    It copies the base function's settings (tables, timeouts, durable config)
    and adds services/ to its import path. It belongs to no stack, so `make up`
    keeps it; the lab runner registers it again before every run all the same
    (the base function's settings may have changed). `timeout_s` replaces
    the base function's timeout (the lab tests' short deadlines, WORKSHOP_LAB_STEP_TIMEOUT_S).
    `time_scale` above 1: the runner fires the copy's waits and retry back-offs
    that many times sooner, and its callback and heartbeat timeouts too with
    `scale_callback_timeouts` (workshop/runner/function_scale.py says why
    that is a choice); unset, the copy keeps real time.

    The runner's function configs are written again under the registry's
    lock, so the runner sees the copy (and its scale) before its first
    execution, and two copies registered at once cannot drop each other's.
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
            "stack": None,  # no template's: `make up` keeps it, and the lab runner refreshes it before each run
            # as the function host sees them (the compose stack mounts the repository elsewhere)
            "code_dir": config.stack_path(code_dir),
            "handler": "handler.lambda_handler",
            "python_path": [config.stack_path(REPO_ROOT / "services")],
            "environment": environment,
            "log_group": f"/aws/lambda/{name}",
        }
        if timeout_s is not None:
            registry["functions"][name]["timeout"] = timeout_s
        copy = registry["functions"][name]
        copy.pop("time_scale", None)
        copy.pop("time_scale_callback_timeouts", None)
        if time_scale is not None and time_scale > 1:
            copy["time_scale"] = time_scale
            copy["time_scale_callback_timeouts"] = scale_callback_timeouts

    update(config, add, then=lambda registry: function_configs.write(config.state_dir, registry))


class Watched(WatchedFile[Registry]):
    """The registry as the function host sees it: read again whenever the file changes."""

    def __init__(self, config: Any) -> None:
        super().__init__(
            _path(config),
            lambda path: json.loads(path.read_text(encoding="utf-8")),
            {"functions": {}, "event_source_mappings": []},
        )
