"""stack.ready(): `make lab-N` skips `up` (which provisions a running stack again) only when up would do nothing."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from workshop.config import TEMPLATE_PATH, StackConfig
status = importlib.import_module("workshop.stack.status")  # the module: the package exports its status() under that name


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StackConfig:
    monkeypatch.delenv("WORKSHOP_STACK", raising=False)
    config = StackConfig(state_dir=tmp_path)
    config.registry_path.write_text("{}", encoding="utf-8")  # provisioned after the template's last change
    monkeypatch.setattr(status, "running_pid", lambda config, service: 4242)
    monkeypatch.setattr(status, "healthy", lambda config, service, timeout=1.0: True)
    return config


def test_a_running_answering_provisioned_stack_is_ready(config: StackConfig) -> None:
    assert status.ready(config)


def test_a_stopped_or_silent_service_is_not_ready(config: StackConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "running_pid", lambda config, service: None if service.name == "runner" else 4242)
    assert not status.ready(config)
    monkeypatch.setattr(status, "running_pid", lambda config, service: 4242)
    monkeypatch.setattr(status, "healthy", lambda config, service, timeout=1.0: service.name != "explorer")
    assert not status.ready(config)


def test_a_registry_missing_or_older_than_the_template_is_not_ready(config: StackConfig) -> None:
    old = TEMPLATE_PATH.stat().st_mtime - 60
    os.utime(config.registry_path, (old, old))  # the template changed since: up provisions it again
    assert not status.ready(config)
    config.registry_path.unlink()
    assert not status.ready(config)
