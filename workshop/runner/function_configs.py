"""The runner's function configurations: which functions a durable function may `context.invoke`.

dex-local-runner reads ``--function-configs`` once, when it starts, so a function
of a template deployed later (``workshop deploy``) would be unknown to it and a
``context.invoke`` of it would fail with ResourceNotFoundException. This module
owns the file: ``write()`` builds it from the function registry (the provisioner
and ``workshop deploy`` / ``delete`` call it), and ``watched()`` gives the
launcher a FunctionConfigs whose entries are read again whenever the file changes.

A function registered with a ``time_scale`` above 1 (a lab's copy) carries it
as ``WorkshopTimeScale`` (and ``WorkshopTimeScaleCallbackTimeouts`` when its
callback timeouts are scaled too): the runner's own parser ignores keys it
does not know, and workshop/runner/function_scale.py reads them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop.runner.function_scale import CALLBACKS_KEY, CONFIG_KEY
from workshop.watched_file import WatchedFile

if TYPE_CHECKING:  # the runner's package is imported by the launcher only: `make up` and deploys need not load it
    from aws_durable_execution_sdk_python_testing.child_dispatcher import FunctionConfig, FunctionConfigs


def path_of(state_dir: Path) -> Path:
    return Path(state_dir) / "runner" / "function-configs.json"


def entry_of(fn: dict[str, Any]) -> dict[str, Any]:
    """One function's entry: its DurableConfig when durable, its time scale when above 1."""
    entry: dict[str, Any] = {"DurableConfig": fn["durable"]} if fn.get("durable") else {}
    if float(fn.get("time_scale") or 1) > 1:
        entry[CONFIG_KEY] = float(fn["time_scale"])
        if fn.get("time_scale_callback_timeouts"):
            entry[CALLBACKS_KEY] = True
    return entry


def write(state_dir: Path, registry: dict[str, Any]) -> Path:
    """Every registered function, durable ones with their DurableConfig (a whole-file replace)."""
    configs = {name: entry_of(fn) for name, fn in registry.get("functions", {}).items()}
    path = path_of(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(json.dumps(configs, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)
    return path


class _FollowedConfigs(Mapping[str, "FunctionConfig"]):
    """The file's entries as a Mapping, read again when the file changes (workshop.watched_file).

    A file that cannot be read or parsed keeps the last good entries (a deploy
    replaces it whole, so this only happens to a hand edit), and says so once.
    """

    def __init__(self, path: Path) -> None:
        from aws_durable_execution_sdk_python_testing.child_dispatcher import FunctionConfigs

        def say(exc: Exception) -> None:
            print(f"workshop.runner: {path} is not readable ({exc}); keeping the previous function configs", flush=True)

        self._file: WatchedFile[Mapping[str, FunctionConfig]] = WatchedFile(
            path, lambda p: FunctionConfigs.from_value(f"file://{p}").by_name, {}, on_error=say
        )

    def __getitem__(self, name: str) -> FunctionConfig:
        return self._file.current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._file.current())

    def __len__(self) -> int:
        return len(self._file.current())


def watched(path: Path) -> FunctionConfigs:
    """A FunctionConfigs for the runner that follows the file (read at each chained invoke's lookup)."""
    from aws_durable_execution_sdk_python_testing.child_dispatcher import FunctionConfigs

    return FunctionConfigs(by_name=_FollowedConfigs(Path(path)))
