"""The embedded stack: AWS emulator, durable runner and function host as background processes.

`make up` / `make down` / `make status` / `make logs` call this. Every process
binds to 127.0.0.1, writes its pid file and log under the state folder, and is
stopped by that pid (after checking the pid still belongs to it). Readiness is
awaited by health checks with a deadline, never by a fixed sleep.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from workshop import registry as function_registry
from workshop.config import REGION, REPO_ROOT, StackConfig, aws_env, stack_env
from workshop.host.pool import IDLE_EXTRA_WORKER_SECONDS, IDLE_WORKER_SECONDS

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 15.0


@dataclass(frozen=True)
class Service:
    name: str
    port: Callable[[StackConfig], int]
    health_path: str
    command: Callable[[StackConfig], list[str]]
    env: Callable[[StackConfig], dict[str, str]]
    marker: str  # a string its command line contains: a recycled pid is never signalled
    udp: bool = False  # also listens on UDP at the same port number (the X-Ray sink)


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
        "--function-configs", f"file://{config.state_dir / 'runner' / 'function-configs.json'}",
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
    ),
)


def _pid_file(config: StackConfig, service: Service) -> Path:
    return config.state_dir / "pids" / f"{service.name}.pid"


def _log_file(config: StackConfig, service: Service) -> Path:
    return config.state_dir / "logs" / f"{service.name}.log"


def running_pid(config: StackConfig, service: Service) -> int | None:
    """The recorded pid, if that process is alive and is still this service."""
    try:
        pid = int(_pid_file(config, service).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if service.marker in cmdline else None


def service_url(config: StackConfig, service: Service) -> str:
    """Where a service answers: 127.0.0.1 for the embedded stack, its host name in containers."""
    return {
        "emulator": config.emulator_url,
        "runner": config.runner_url,
        "function-host": config.host_url,
        "xray-sink": config.xray_url,
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


def port_owner(port: int, udp: bool = False) -> str | None:
    """Who listens on a TCP (or bound UDP) port, from /proc (Linux); None when it cannot be told."""
    try:
        inodes = set()
        tables = (("/proc/net/tcp", "0A"), ("/proc/net/tcp6", "0A"))
        tables += (("/proc/net/udp", "07"), ("/proc/net/udp6", "07")) if udp else ()
        for table, listening in tables:
            with open(table, encoding="ascii") as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if fields[3] == listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                for fd in (proc / "fd").iterdir():
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                        return f"pid {proc.name}: {cmd[:120]}"
            except OSError:
                continue
    except OSError:
        return None
    return None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A 127.0.0.1 port nothing listens on (bound, read, released); SOCK_DGRAM for UDP."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def private_config(state_dir: Path, **overrides: object) -> StackConfig:
    """A stack on free ports with its own state folder: tests, measure and bench never touch a learner's."""
    ports = {
        "emulator_port": free_port(),
        "runner_port": free_port(),
        "host_port": free_port(),
        "xray_port": free_port(socket.SOCK_DGRAM),  # the sink listens on UDP and TCP
    }
    return StackConfig(state_dir=state_dir, **{**ports, **overrides})  # type: ignore[arg-type]


def port_free(host: str, port: int, udp: bool = False) -> bool:
    """Whether the TCP port (and, with udp=True, the UDP port of the same number) can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    if udp:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True


class StackError(SystemExit):
    """A clear message and a non-zero exit, never a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def _start(config: StackConfig, service: Service) -> float:
    port = service.port(config)
    if not port_free(config.bind_host, port, service.udp):
        owner = port_owner(port, service.udp)
        raise StackError(
            f"Port {port} ({service.name}) is already in use"
            + (f" by {owner}" if owner else "")
            + f". Stop that process, or choose another port, e.g. WORKSHOP_{_env_key(service)}_PORT={port + 1} make up"
        )
    log_path = _log_file(config, service)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = _service_env(config, service)
    started = time.monotonic()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            service.command(config),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,  # not killed with the terminal that ran `make up`
        )
    pid_path = _pid_file(config, service)
    pid_path.parent.mkdir(parents=True, exist_ok=True)
    pid_path.write_text(str(process.pid))
    deadline = started + START_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_path.unlink(missing_ok=True)
            raise StackError(f"{service.name} exited with code {process.returncode} while starting. Last lines of {log_path}:\n{_tail(log_path, 15)}")
        if healthy(config, service, timeout=0.5):
            return time.monotonic() - started
        time.sleep(0.05)
    raise StackError(f"{service.name} was not healthy within {START_DEADLINE_S:.0f} s. See {log_path}:\n{_tail(log_path, 15)}")


def _service_env(config: StackConfig, service: Service) -> dict[str, str]:
    return {**os.environ, **aws_env(config), **service.env(config), "PYTHONUNBUFFERED": "1", **stack_env(config)}


def run_service(config: StackConfig, name: str) -> None:
    """Replace this process with one service, in the foreground, logging to stdout (containers)."""
    service = next((s for s in SERVICES if s.name == name), None)
    if service is None:
        raise StackError(f"no service {name!r}; one of: {', '.join(s.name for s in SERVICES)}")
    for folder in ("runner", "logs", "emulator"):
        (config.state_dir / folder).mkdir(parents=True, exist_ok=True)
    command = service.command(config)
    os.chdir(REPO_ROOT)
    os.execvpe(command[0], command, _service_env(config, service))


def _env_key(service: Service) -> str:
    return {"emulator": "EMULATOR", "runner": "RUNNER", "function-host": "HOST", "xray-sink": "XRAY"}[service.name]


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(config: StackConfig, service: Service) -> str:
    pid = running_pid(config, service)
    pid_path = _pid_file(config, service)
    if pid is None:
        pid_path.unlink(missing_ok=True)
        return "not running"
    # SIGTERM first: the emulator saves its state only on a graceful stop.
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_DEADLINE_S
    while time.monotonic() < deadline:
        if running_pid(config, service) is None or _is_zombie(pid):
            pid_path.unlink(missing_ok=True)
            return f"stopped (pid {pid})"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    pid_path.unlink(missing_ok=True)
    return f"killed after {STOP_DEADLINE_S:.0f} s (pid {pid})"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def _write_runner_function_configs(config: StackConfig, registry: dict) -> None:
    """The runner needs to know the functions a durable function may `context.invoke`."""
    configs = {
        name: ({"DurableConfig": fn["durable"]} if fn.get("durable") else {})
        for name, fn in registry["functions"].items()
    }
    path = config.state_dir / "runner" / "function-configs.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(configs, indent=2))


def provision_stack(config: StackConfig) -> dict:
    """The template's resources in the emulator, the seed data, and the runner's function configs."""
    from workshop.provision import provision
    from workshop.stack.seed import seed

    registry = provision(config)
    seed(config, registry)
    _write_runner_function_configs(config, registry)
    return registry


def _await_compose(config: StackConfig, say: Callable[[str], None]) -> dict[str, float]:
    """WORKSHOP_STACK=compose: nothing is started here; wait until the containers answer."""
    t0 = time.monotonic()
    deadline = t0 + float(os.environ.get("WORKSHOP_COMPOSE_WAIT_S", START_DEADLINE_S))
    for service in SERVICES:
        while not healthy(config, service, timeout=0.5):
            if time.monotonic() > deadline:
                raise StackError(
                    f"The compose stack's {service.name} does not answer at {service_url(config, service)}. "
                    "Start it with `docker compose up -d` (or unset WORKSHOP_STACK for the embedded stack)."
                )
            time.sleep(0.2)
        say(f"  {service.name:<14} {service_url(config, service)} healthy (compose)")
    if not function_registry.exists(config):
        raise StackError(f"{config.registry_path} is missing: the compose stack's `provision` service has not run.")
    total = time.monotonic() - t0
    say(f"compose stack healthy: Lambda endpoint {config.host_url}, AWS emulator {config.emulator_url}")
    return {"total": total}


@contextmanager
def _stack_lock(config: StackConfig) -> Iterator[None]:
    """One `up` or `down` at a time per state folder.

    Two terminals (or a lab and a test) running `make up` at the same moment
    would otherwise both find a service stopped, both start it, and the loser's
    pid file would point at a process that exited on "port in use".
    """
    config.state_dir.mkdir(parents=True, exist_ok=True)
    with open(config.state_dir / "stack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up(config: StackConfig, say: Callable[[str], None] = print) -> dict[str, float]:
    """Start what is not running, provision, and wait until all are healthy. Harmless twice."""
    if config.mode == "compose":
        return _await_compose(config, say)
    with _stack_lock(config):
        return _up(config, say)


def _up(config: StackConfig, say: Callable[[str], None]) -> dict[str, float]:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    for service in SERVICES:
        pid = running_pid(config, service)
        if pid is not None and healthy(config, service):
            say(f"  {service.name:<14} :{service.port(config):<5} already running (pid {pid})")
        else:
            if pid is not None:  # alive but not answering: replace it
                _stop(config, service)
            say(f"  {service.name:<14} :{service.port(config):<5} starting...")
            timings[service.name] = _start(config, service)
            say(f"  {service.name:<14} :{service.port(config):<5} healthy in {timings[service.name]:.2f} s (pid {running_pid(config, service)})")
        if service.name == "emulator":
            t = time.monotonic()
            registry = provision_stack(config)
            timings["provision"] = time.monotonic() - t
            say(f"  {'provisioned':<14} {len(registry['functions'])} functions, {len(registry.get('event_source_mappings', []))} event source mappings from infra/template.yaml ({timings['provision']:.2f} s)")
    timings["total"] = time.monotonic() - t0
    say(f"stack healthy in {timings['total']:.2f} s: Lambda endpoint {config.host_url}, AWS emulator {config.emulator_url}")
    return timings


def down(config: StackConfig, say: Callable[[str], None] = print) -> None:
    if config.mode == "compose":
        say("WORKSHOP_STACK=compose: the stack runs in containers; stop it with `docker compose down`.")
        return
    # Reverse order: stop the host (no new invocations) before the runner, the emulator last.
    with _stack_lock(config):
        for service in reversed(SERVICES):
            say(f"  {service.name:<14} {_stop(config, service)}")


def status(config: StackConfig, say: Callable[[str], None] = print) -> bool:
    all_ok = True
    if config.mode == "compose":
        for service in SERVICES:
            ok = healthy(config, service)
            all_ok &= ok
            say(f"  {service.name:<14} {service_url(config, service):<28} {'healthy' if ok else 'not answering'} (compose)")
        return all_ok
    for service in SERVICES:
        pid = running_pid(config, service)
        ok = pid is not None and healthy(config, service)
        all_ok &= ok
        state = "healthy" if ok else ("running, not answering" if pid else "stopped")
        say(f"  {service.name:<14} :{service.port(config):<5} {state}" + (f" (pid {pid}, {_rss_mb(pid)} MB RSS)" if pid else ""))
        if service.name == "function-host" and ok:
            for line in worker_lines(config):
                say(line)
    return all_ok


def worker_lines(config: StackConfig) -> list[str]:
    """The host's worker processes (one per warm Lambda environment): what holds the stack's memory."""
    try:
        with urllib.request.urlopen(config.host_url + "/_workshop/workers", timeout=3) as response:
            workers = json.loads(response.read())["Workers"]
    except (OSError, ValueError, KeyError) as exc:
        return [f"    workers: the host did not list them ({exc})"]
    if not workers:
        return ["    workers: none warm (each function starts one on its next invocation)"]
    total = sum(w["rss_mb"] or 0 for w in workers)
    lines = [f"    workers: {len(workers)}, {total} MB RSS (an idle one stops after {IDLE_EXTRA_WORKER_SECONDS:.0f} s, a function's last after {IDLE_WORKER_SECONDS:.0f} s)"]
    for w in workers:
        state = f"idle {w['idle_s']:.0f} s" if w["state"] == "idle" else "busy"
        lines.append(f"      {w['function']:<28} pid {w['pid']:<8} {state:<10} {w['rss_mb'] or 0} MB")
    return lines


def _rss_mb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def logs(config: StackConfig, lines: int = 40, say: Callable[[str], None] = print) -> None:
    for service in SERVICES:
        path = _log_file(config, service)
        say(f"==> {path} <==\n{_tail(path, lines)}\n")
    for path in sorted((config.state_dir / "logs" / "functions").glob("*.log")):
        say(f"==> {path} <==\n{_tail(path, lines)}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.stack", description="Run the embedded local stack.")
    parser.add_argument("command", choices=["up", "down", "status", "logs", "run-service", "provision"])
    parser.add_argument("service", nargs="?", help="run-service: emulator, runner, xray-sink or function-host (containers)")
    parser.add_argument("-n", "--lines", type=int, default=40, help="lines per log (logs)")
    args = parser.parse_args(argv)
    config = StackConfig()
    try:
        if args.command == "up":
            up(config)
        elif args.command == "run-service":
            run_service(config, args.service or "")
        elif args.command == "provision":  # the compose stack's one-shot
            registry = provision_stack(config)
            print(f"provisioned {len(registry['functions'])} functions into {config.registry_path}")
        elif args.command == "down":
            down(config)
        elif args.command == "status":
            return 0 if status(config) else 1
        else:
            logs(config, args.lines)
    except StackError as exc:
        print(f"error: {exc.code}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
