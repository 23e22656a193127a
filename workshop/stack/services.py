"""What the stack runs: each service's command, environment, pid and log files, and how to tell it is healthy."""

from __future__ import annotations

import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from workshop import capped_files, system
from workshop.config import REGION, REPO_ROOT, StackConfig, aws_env, stack_env
from workshop.runner import function_configs


@dataclass(frozen=True)
class Service:
    name: str
    port: Callable[[StackConfig], int]
    health_path: str
    command: Callable[[StackConfig], list[str]]
    env: Callable[[StackConfig], dict[str, str]]
    marker: str  # a string its command line contains: a recycled pid is never signalled
    udp: bool = False  # also listens on UDP at the same port number (the X-Ray sink)
    children: tuple[str, str] = ("child process", "child processes")  # what `make down` calls one it started, and more


def _emulator_python() -> str:
    path = Path(os.environ.get("WORKSHOP_EMULATOR_PYTHON", REPO_ROOT / ".venv-emulator" / "bin" / "python"))
    if not path.exists():
        raise SystemExit(f"The emulator's virtual environment is missing ({path}). Run `make env` first.")
    return str(path)


def _runner_command(config: StackConfig) -> list[str]:
    # Our launcher of dex-local-runner: same flags, plus recovery of suspended executions after a restart.
    return [
        sys.executable, "-m", "workshop.runner.launcher", "start-server",
        "--host", config.bind_host,
        "--port", str(config.runner_port),
        "--lambda-endpoint", config.host_url,
        "--store-type", "sqlite",
        "--store-path", str(config.state_dir / "runner" / "executions.db"),
        "--watch-function-configs", str(function_configs.path_of(config.state_dir)),  # `workshop deploy` adds to it live
        "--local-runner-region", REGION,  # the runner's default is us-west-2; ARNs must match the rest
        "--log-level", "WARNING",
    ]  # fmt: skip


SERVICES = (
    Service(
        name="emulator",
        port=lambda c: c.emulator_port,
        health_path="/_ministack/health",
        command=lambda c: [_emulator_python(), "-m", "ministack"],
        env=lambda c: {
            "GATEWAY_PORT": str(c.emulator_port),
            "BIND_HOST": c.bind_host,
            "PERSIST_STATE": "1",
            "STATE_DIR": str(c.state_dir / "emulator"),
        },
        marker="ministack",
    ),
    Service(
        name="runner",
        port=lambda c: c.runner_port,
        health_path="/health",
        command=_runner_command,
        env=lambda c: {},
        marker="workshop.runner.launcher",
    ),
    # Tracer segments in over UDP, queries over TCP, one port number. Before the
    # host: an SQS poller may invoke (and trace) as soon as the host is up.
    Service(
        name="xray-sink",
        port=lambda c: c.xray_port,
        health_path="/health",
        command=lambda c: [sys.executable, "-m", "workshop.stack.xray_sink"],
        env=lambda c: {},
        marker="workshop.stack.xray_sink",
        udp=True,
    ),
    Service(
        name="function-host",
        port=lambda c: c.host_port,
        health_path="/_workshop/health",
        command=lambda c: [sys.executable, "-m", "workshop.host.server"],
        env=lambda c: {},
        marker="workshop.host.server",
        children=("worker", "workers"),
    ),
    # Reads what the others serve (through workshop.inspect); last, so its first page finds them up.
    Service(
        name="explorer",
        port=lambda c: c.explorer_port,
        health_path="/health",
        command=lambda c: [sys.executable, "-m", "workshop.explorer.server"],
        env=lambda c: {},
        marker="workshop.explorer.server",
    ),
)


def _pid_file(config: StackConfig, service: Service) -> Path:
    return config.state_dir / "pids" / f"{service.name}.pid"


def _log_file(config: StackConfig, service: Service) -> Path:
    """The service's stdout and stderr (O_APPEND); the host's log keeper rotates it to .1 and .2 at the cap."""
    return config.state_dir / "logs" / f"{service.name}.log"


def _created_file(config: StackConfig, service: Service) -> Path:
    """Beside the pid file, the process's create time: the pid file stays a bare pid (scripts/doctor.py reads it)."""
    return config.state_dir / "pids" / f"{service.name}.created"


def record(config: StackConfig, service: Service, pid: int) -> None:
    """Record a service just started: its pid and create time, so a reused pid is never taken for it."""
    identity = system.identity_of(pid)
    pid_path = _pid_file(config, service)
    pid_path.parent.mkdir(parents=True, exist_ok=True)
    _created_file(config, service).write_text("" if identity.created is None else repr(identity.created))
    pid_path.write_text(str(pid))


def forget(config: StackConfig, service: Service) -> None:
    """The service is stopped: its record goes."""
    _pid_file(config, service).unlink(missing_ok=True)
    _created_file(config, service).unlink(missing_ok=True)


def running(config: StackConfig, service: Service) -> system.Handle | None:
    """The recorded process, if it is alive and is still this service (command line and create time)."""
    try:
        pid = int(_pid_file(config, service).read_text())
    except (OSError, ValueError):
        return None
    try:
        created: float | None = float(_created_file(config, service).read_text())
    except (OSError, ValueError):  # recorded before create times were, or where they cannot be read
        created = None
    return system.find(system.Identity(pid, created), service.marker)


def running_pid(config: StackConfig, service: Service) -> int | None:
    """The recorded pid, if that process is alive and is still this service."""
    handle = running(config, service)
    return None if handle is None else handle.pid


def service_url(config: StackConfig, service: Service) -> str:
    """Where a service answers: 127.0.0.1 for the embedded stack, its host name in containers."""
    return {
        "emulator": config.emulator_url,
        "runner": config.runner_url,
        "function-host": config.host_url,
        "xray-sink": config.xray_url,
        "explorer": config.explorer_url,
    }[service.name]


def healthy(config: StackConfig, service: Service, timeout: float = 1.0) -> bool:
    path = service.health_path
    if config.mode == "compose" and service.name == "emulator":
        path = "/_localstack/health"  # LocalStack's; MiniStack answers it too
    url = f"{service_url(config, service)}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def _service_env(config: StackConfig, service: Service) -> dict[str, str]:
    # the cap is passed on so the X-Ray sink and the host cap their files as this config says
    cap = {capped_files.SETTING: str(config.log_max_mb)}
    return {**os.environ, **aws_env(config), **service.env(config), "PYTHONUNBUFFERED": "1", **stack_env(config), **cap}


def _tail(path: Path, lines: int) -> str:
    """The last lines of a log, across its rotation."""
    return capped_files.tail(path, lines)
