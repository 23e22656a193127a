"""The embedded stack: AWS emulator, durable runner and function host as background processes.

`make up` / `make down` / `make status` / `make logs` call this. Every process
binds to 127.0.0.1, has its pid and create time recorded and its log under the
state folder, and is stopped by that record (after checking the process is
still the one started), with its process group and every process it started
(workshop/system.py). Readiness is
awaited by health checks with a deadline, never by a fixed sleep. A
service's stdout and stderr are its log, opened with O_APPEND; the function
host's log keeper caps it in place (copytruncate, workshop/capped_files.py).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from workshop import registry as function_registry
from workshop import system
from workshop.config import REPO_ROOT, StackConfig
from workshop.stack.limits import raise_open_files
from workshop.stack.ports import port_free, port_owner
from workshop.stack.ports import free_port  # noqa: F401 - test_cli.py, test_metrics.py and test_provision.py import it from here
from workshop.stack.services import SERVICES, Service, _log_file, _service_env, _tail, forget, healthy, record, running, running_pid, service_url
from workshop.stack.status import logs, status

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 15.0


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
    record(config, service, process.pid)
    deadline = started + START_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            forget(config, service)
            raise StackError(f"{service.name} exited with code {process.returncode} while starting. Last lines of {log_path}:\n{_tail(log_path, 15)}")
        if healthy(config, service, timeout=0.5):
            return time.monotonic() - started
        time.sleep(0.05)
    stopped = _stop(config, service)  # not left running half-started, holding its port
    raise StackError(f"{service.name} was not healthy within {START_DEADLINE_S:.0f} s ({stopped}). See {log_path}:\n{_tail(log_path, 15)}")


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
    return {"emulator": "EMULATOR", "runner": "RUNNER", "function-host": "HOST", "xray-sink": "XRAY", "explorer": "EXPLORER"}[service.name]


def _stop(config: StackConfig, service: Service) -> str:
    """Stop a service and every process it started (its process group and its descendants); what it took, in words."""
    handle = running(config, service)
    if handle is None:
        forget(config, service)
        return "not running"
    stopped = system.stop_tree(handle, STOP_DEADLINE_S)
    forget(config, service)
    return stopped.describe(service.children)


def provision_stack(config: StackConfig, say: Callable[[str], None] = print) -> dict:
    """infra/template.yaml's resources in the emulator, the seed data, the templates deployed
    with `workshop deploy` (re-read from their files), and the runner's function configs."""
    from workshop.deploy import restore
    from workshop.provision import provision
    from workshop.runner import function_configs
    from workshop.stack.seed import seed

    registry = provision(config)
    seed(config, registry)
    restore(config, say)
    function_configs.write(config.state_dir, function_registry.load(config))
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
    said = raise_open_files()  # before any service starts: each inherits this process's limit
    if said:
        say(f"  {said}")
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
            registry = provision_stack(config, say)
            timings["provision"] = time.monotonic() - t
            say(f"  {'provisioned':<14} {len(registry['functions'])} functions, {len(registry.get('event_source_mappings', []))} event source mappings from infra/template.yaml ({timings['provision']:.2f} s)")
    timings["total"] = time.monotonic() - t0
    say(f"stack healthy in {timings['total']:.2f} s: Lambda endpoint {config.host_url}, AWS emulator {config.emulator_url}, explorer {config.explorer_url}")
    return timings


def down(config: StackConfig, say: Callable[[str], None] = print) -> None:
    if config.mode == "compose":
        say("WORKSHOP_STACK=compose: the stack runs in containers; stop it with `docker compose down`.")
        return
    # Reverse order: stop the host (no new invocations) before the runner, the emulator last.
    with _stack_lock(config):
        for service in reversed(SERVICES):
            say(f"  {service.name:<14} {_stop(config, service)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.stack", description="Run the embedded local stack.")
    parser.add_argument("command", choices=["up", "down", "status", "logs", "run-service", "provision"])
    parser.add_argument("service", nargs="?", help="run-service: emulator, runner, xray-sink, function-host or explorer (containers)")
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
