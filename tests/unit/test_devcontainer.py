"""The dev container (.devcontainer/devcontainer.json), read and checked offline.

`make test-devcontainer` builds and runs it for real (docker/test-devcontainer.sh); these
only read files: the config is plain JSON, builds docker/Dockerfile, forwards the ports the
stack listens on by default (workshop/config.py), and gives the embedded stack what it needs
inside the one container: the image's Python for make, MiniStack's and SAM's translator's
environments, the repository on every process's path, a user who is not root.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workshop.config import REPO_ROOT, StackConfig
from workshop.provision import sam_transform
from workshop.stack import services

DEVCONTAINER_DIR = REPO_ROOT / ".devcontainer"
DEVCONTAINER_JSON = DEVCONTAINER_DIR / "devcontainer.json"
DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"


@pytest.fixture(scope="module")
def config() -> dict:
    assert DEVCONTAINER_JSON.is_file(), "no .devcontainer/devcontainer.json"
    # Plain JSON, no comments: the test script (docker/test-devcontainer.sh) reads it with json too.
    return json.loads(DEVCONTAINER_JSON.read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of docker/Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined.splitlines() if line.strip()]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def dockerfile_runs() -> str:
    return "\n".join(args for instruction, args in dockerfile_instructions() if instruction == "RUN")


def dockerfile_args() -> set[str]:
    return {args.split("=", 1)[0].strip() for instruction, args in dockerfile_instructions() if instruction == "ARG"}


def container_env(config: dict) -> dict[str, str]:
    """What a process in the dev container sees: the image's ENV, then containerEnv over it."""
    return {**dockerfile_env(), **config.get("containerEnv", {})}


def test_it_builds_the_workshop_dockerfile_from_the_repository(config):
    build = config["build"]
    assert (DEVCONTAINER_DIR / build["dockerfile"]).resolve() == DOCKERFILE.resolve()
    assert DOCKERFILE.is_file()
    assert (DEVCONTAINER_DIR / build["context"]).resolve() == REPO_ROOT.resolve()
    assert set(build.get("args", {})) <= dockerfile_args(), "a build arg the Dockerfile does not declare"


def test_build_time_host_networking_stays_in_the_test_script(config):
    # as for compose (tests/unit/test_compose.py): only the test machine needs it
    assert "network" not in json.dumps(config.get("build", {}).get("options", []))
    assert "--network=host" in (REPO_ROOT / "docker" / "test-devcontainer.sh").read_text()


def test_the_explorer_and_the_function_host_default_ports_are_forwarded(config, monkeypatch):
    for name in ("WORKSHOP_EXPLORER_PORT", "WORKSHOP_HOST_PORT", "WORKSHOP_EMULATOR_PORT"):
        monkeypatch.delenv(name, raising=False)
    defaults = StackConfig()
    forwarded = config.get("forwardPorts", [])
    for port in (defaults.explorer_port, defaults.host_port):
        assert port in forwarded, f"port {port} is not forwarded"
        assert config.get("portsAttributes", {}).get(str(port), {}).get("label"), f"port {port} has no label"
    # every forwarded port is one the stack listens on (a changed default changes this file too)
    assert set(forwarded) <= {defaults.explorer_port, defaults.host_port, defaults.emulator_port}


def test_the_stack_inside_is_the_embedded_one_on_its_defaults(config):
    env = container_env(config)
    assert env.get("WORKSHOP_STACK", "embedded") == "embedded"
    # ports, hosts and the state folder left to their defaults: 127.0.0.1, .workshop/ in the workspace
    overridden = [key for key in env if re.match(r"WORKSHOP_\w+_(PORT|HOST)$|WORKSHOP_STATE_DIR$|WORKSHOP_BIND_HOST$", key)]
    assert overridden == []


def test_make_uses_the_image_python_not_a_venv_of_the_workspace(config):
    assert container_env(config).get("WORKSHOP_CONTAINER"), "the Makefile would build .venv in the workspace"
    assert "ifdef WORKSHOP_CONTAINER" in (REPO_ROOT / "Makefile").read_text()
    # a login shell (`devcontainer exec bash -lc`, a terminal) keeps the image's environment on PATH
    assert "/etc/profile.d/" in dockerfile_runs() and "/opt/workshop/bin" in dockerfile_env()["PATH"]


def test_the_emulator_environment_is_built_and_the_stack_finds_it(config, monkeypatch):
    assert config["build"].get("args", {}).get("WITH_EMULATOR") == "1", "no MiniStack in the image: `make up` fails"
    emulator_python = container_env(config)["WORKSHOP_EMULATOR_PYTHON"]
    venv = str(Path(emulator_python).parent.parent)
    assert f"python -m venv {venv} " in dockerfile_runs(), f"the Dockerfile does not create {venv}"
    assert "requirements/emulator.txt" in dockerfile_runs()
    # the variable is the one the stack reads (missing here: its message names the path it looked at)
    monkeypatch.setenv("WORKSHOP_EMULATOR_PYTHON", emulator_python)
    if not Path(emulator_python).exists():
        with pytest.raises(SystemExit, match=re.escape(emulator_python)):
            services._emulator_python()


def test_the_sam_translator_environment_is_built_and_the_provisioner_finds_it(config, monkeypatch):
    translator_python = container_env(config)["WORKSHOP_SAM_TRANSLATOR_PYTHON"]
    venv = str(Path(translator_python).parent.parent)
    assert f"python -m venv {venv} " in dockerfile_runs(), f"the Dockerfile does not create {venv}"
    monkeypatch.setenv("WORKSHOP_SAM_TRANSLATOR_PYTHON", translator_python)
    assert sam_transform.translator_python() == Path(translator_python)


def test_the_repository_is_on_the_path_where_the_dev_container_mounts_it(config):
    # function workers get a PYTHONPATH of their own code only: the image's .pth must name the workspace
    assert config["build"]["args"].get("WORKSHOP_REPO") == "${containerWorkspaceFolder}"
    assert "workshop-repo.pth" in dockerfile_runs() and '"$WORKSHOP_REPO"' in dockerfile_runs()
    assert "PYTHONPATH" not in config.get("containerEnv", {})


def test_it_runs_as_a_user_the_image_creates_not_root(config):
    user = config.get("remoteUser") or config.get("containerUser")
    assert user and user != "root"
    created = re.search(rf"useradd\b.*\b{re.escape(user)}$", dockerfile_runs(), re.MULTILINE)
    assert created, f"the Dockerfile creates no user {user}"
    # the CLI (and VS Code) give that user the learner's UID on Linux: .workshop/ stays theirs
    assert config.get("updateRemoteUserUID", True) is True
