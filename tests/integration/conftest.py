"""A private stack for live tests: free ports, a temporary state folder, stopped by pid.

It never touches the learner's own stack (default ports, .workshop/), so the
tests can run while a lab is open in another terminal.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop import stack
from workshop.config import StackConfig


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_config(state_dir: Path) -> StackConfig:
    return StackConfig(
        state_dir=state_dir, emulator_port=free_port(), runner_port=free_port(), host_port=free_port(), xray_port=free_udp_port()
    )


def export(config: StackConfig) -> dict[str, str]:
    """The env vars that make StackConfig() (CLI, clients) point at this stack."""
    return {
        "WORKSHOP_STATE_DIR": str(config.state_dir),
        "WORKSHOP_EMULATOR_PORT": str(config.emulator_port),
        "WORKSHOP_RUNNER_PORT": str(config.runner_port),
        "WORKSHOP_HOST_PORT": str(config.host_port),
        "WORKSHOP_XRAY_PORT": str(config.xray_port),
    }


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    config = make_config(tmp_path_factory.mktemp("stack"))
    saved = {key: os.environ.get(key) for key in export(config)}
    os.environ.update(export(config))
    try:
        stack.up(config, say=lambda line: None)
        yield config
    finally:
        stack.down(config, say=lambda line: None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
