"""The function registry's one owner: whole-file writes, locked updates, clear errors, the host's view."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from workshop import registry
from workshop.runner import function_configs
from workshop.runner.function_scale import CALLBACKS_KEY, CONFIG_KEY


@dataclass
class _Config:
    registry_path: Path

    @property
    def state_dir(self) -> Path:
        return self.registry_path.parent

    def stack_path(self, path: str | Path) -> str:
        return str(path)


def test_a_missing_registry_says_to_start_the_stack(tmp_path: Path) -> None:
    with pytest.raises(registry.RegistryMissing, match="make up"):
        registry.load(_Config(tmp_path / "functions.json"))


def test_updates_from_many_threads_at_once_lose_nothing(tmp_path: Path) -> None:
    config = _Config(tmp_path / "functions.json")
    registry.write(config, {"functions": {}, "event_source_mappings": []})

    def add(n: int) -> None:
        registry.update(config, lambda r: r["functions"].update({f"fn-{n}": {"n": n}}))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(registry.load(config)["functions"]) == sorted(f"fn-{n}" for n in range(40))


def test_a_copy_takes_the_base_functions_settings_and_its_own_code(tmp_path: Path) -> None:
    config = _Config(tmp_path / "functions.json")
    base = {"handler": "a.b", "code_dir": "/base", "environment": {"TABLE": "t", "NAME": "x"}, "durable": {"ExecutionTimeout": 60}}
    registry.write(config, {"functions": {"base": base}, "event_source_mappings": []})
    registry.register_copy(config, "base-copy", "/mine", "base", {"NAME": None, "EXTRA": "1"})
    copy = registry.function(config, "base-copy")
    assert copy["durable"] == {"ExecutionTimeout": 60} and copy["code_dir"] == "/mine"
    assert copy["environment"] == {"TABLE": "t", "EXTRA": "1"}
    with pytest.raises(SystemExit, match="not provisioned"):
        registry.register_copy(config, "other", "/mine", "missing-base", {})


def test_a_copy_with_a_time_scale_reaches_the_runners_function_configs(tmp_path: Path) -> None:
    config = _Config(tmp_path / "functions.json")
    registry.write(config, {"functions": {"base": {"durable": {"ExecutionTimeout": 60}}}, "event_source_mappings": []})
    registry.register_copy(config, "lab-copy", "/mine", "base", {}, time_scale=20, scale_callback_timeouts=True)
    registry.register_copy(config, "real-copy", "/mine", "base", {})
    configs = json.loads(function_configs.path_of(config.state_dir).read_text())
    assert configs["lab-copy"] == {"DurableConfig": {"ExecutionTimeout": 60}, CONFIG_KEY: 20.0, CALLBACKS_KEY: True}
    assert configs["real-copy"] == configs["base"] == {"DurableConfig": {"ExecutionTimeout": 60}}
    # registered again at real time: the scale is gone
    registry.register_copy(config, "lab-copy", "/mine", "base", {})
    assert "time_scale" not in registry.function(config, "lab-copy")
    assert CONFIG_KEY not in json.loads(function_configs.path_of(config.state_dir).read_text())["lab-copy"]


def test_the_hosts_view_follows_the_file(tmp_path: Path) -> None:
    config = _Config(tmp_path / "functions.json")
    watched = registry.Watched(config)
    assert watched.current()["functions"] == {}  # no file yet: empty, not an error
    registry.write(config, {"functions": {"one": {}}, "event_source_mappings": []})
    assert list(watched.current()["functions"]) == ["one"]
    registry.update(config, lambda r: r["functions"].update({"two": {}}))
    later = time.time() + 5
    os.utime(config.registry_path, (later, later))  # a coarse clock could give both writes one mtime
    assert sorted(watched.current()["functions"]) == ["one", "two"]
