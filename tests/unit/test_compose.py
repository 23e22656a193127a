"""The compose files and the settings that let the stack run in containers (offline checks).

`make test-compose` runs the containers for real; these only read files and config.
"""

from __future__ import annotations

import re

import pytest
import yaml

from workshop import stack
from workshop.config import REPO_ROOT, StackConfig

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_stack_services_are_all_there():
    assert {"aws", "provision", "runner", "function-host", "xray-sink", "explorer", "workshop"} <= set(SERVICES)


def test_localstack_is_pinned_to_the_last_image_without_an_account():
    assert SERVICES["aws"]["image"] == "${LOCALSTACK_IMAGE:-localstack/localstack:4.14.0}"


def test_every_long_running_service_has_a_health_check():
    for name, service in SERVICES.items():
        if name != "provision":  # a one-shot: the others wait for it to complete
            assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_ports_are_published_on_127_0_0_1_only():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert re.match(r"^127\.0\.0\.1:", str(port)), f"{name} publishes {port} beyond 127.0.0.1"


def test_python_services_mount_the_repository_and_share_one_image():
    for name in ("provision", "runner", "function-host", "xray-sink", "explorer", "workshop"):
        assert ".:/workshop" in SERVICES[name]["volumes"], name
        assert SERVICES[name]["build"]["dockerfile"] == "docker/Dockerfile", name


def test_build_time_host_networking_stays_in_the_test_override():
    assert "network" not in str(COMPOSE)
    test = yaml.safe_load((REPO_ROOT / "docker-compose.test.yml").read_text())
    assert all(service["build"]["network"] == "host" for service in test["services"].values())


def test_defaults_are_the_embedded_stack_on_127_0_0_1(monkeypatch):
    for key in ("WORKSHOP_STACK", "WORKSHOP_BIND_HOST", "WORKSHOP_EMULATOR_HOST", "WORKSHOP_RUNNER_HOST",
                "WORKSHOP_FUNCTION_HOST", "WORKSHOP_XRAY_HOST", "WORKSHOP_STATE_DIR"):  # fmt: skip
        monkeypatch.delenv(key, raising=False)
    config = StackConfig(emulator_port=4566, runner_port=9014, host_port=3001, xray_port=2000)
    assert config.mode == "embedded" and config.bind_host == "127.0.0.1"
    assert (config.emulator_url, config.runner_url, config.host_url, config.xray_url) == (
        "http://127.0.0.1:4566", "http://127.0.0.1:9014", "http://127.0.0.1:3001", "http://127.0.0.1:2000",
    )  # fmt: skip
    assert config.state_dir == (REPO_ROOT / ".workshop").resolve()
    assert config.stack_path(REPO_ROOT / "services") == str(REPO_ROOT / "services")


def test_inside_containers_services_are_reached_by_name(monkeypatch):
    monkeypatch.setenv("WORKSHOP_STACK", "compose")
    monkeypatch.setenv("WORKSHOP_EMULATOR_HOST", "aws")
    monkeypatch.setenv("WORKSHOP_RUNNER_HOST", "runner")
    monkeypatch.setenv("WORKSHOP_FUNCTION_HOST", "function-host")
    monkeypatch.setenv("WORKSHOP_XRAY_HOST", "xray-sink")
    monkeypatch.delenv("WORKSHOP_STATE_DIR", raising=False)
    config = StackConfig(emulator_port=4566, runner_port=9014, host_port=3001, xray_port=2000)
    assert config.emulator_url == "http://aws:4566" and config.host_url == "http://function-host:3001"
    assert config.runner_url == "http://runner:9014" and config.xray_url == "http://xray-sink:2000"
    assert config.state_dir == (REPO_ROOT / ".workshop-compose").resolve()
    # a lab registered from the host names its code as the containers see it
    assert config.stack_path(REPO_ROOT / "services") == "/workshop/services"


def test_compose_mode_starts_nothing_and_says_how_to_start_it(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKSHOP_STACK", "compose")
    monkeypatch.setenv("WORKSHOP_COMPOSE_WAIT_S", "0")
    config = StackConfig(state_dir=tmp_path, emulator_port=1, runner_port=1, host_port=1, xray_port=1)
    with pytest.raises(stack.StackError, match="docker compose up"):
        stack.up(config, say=lambda line: None)
    lines: list[str] = []
    stack.down(config, say=lines.append)
    assert "docker compose down" in lines[0]


def test_an_unknown_stack_mode_is_refused(monkeypatch):
    monkeypatch.setenv("WORKSHOP_STACK", "kubernetes")
    with pytest.raises(SystemExit, match="embedded, compose"):
        StackConfig()
