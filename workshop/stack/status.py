"""What `make status` and `make logs` show: each service's state, the host's warm workers, the last log lines;
and whether the stack is ready as it is (`make lab-N` then skips `up`)."""

from __future__ import annotations

import json
import urllib.request
from typing import Callable

from workshop import system
from workshop.config import TEMPLATE_PATH, StackConfig
from workshop.host.pool import IDLE_EXTRA_WORKER_SECONDS, IDLE_WORKER_SECONDS
from workshop.stack.services import SERVICES, _log_file, _tail, healthy, running_pid, service_url


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
        say(f"  {service.name:<14} :{service.port(config):<5} {state}" + (f" ({_pid_and_rss(pid)})" if pid else ""))
        if service.name == "function-host" and ok:
            for line in worker_lines(config):
                say(line)
    return all_ok


def ready(config: StackConfig) -> bool:
    """Every service running and answering, and provisioned from the template as it is now: `up` has nothing to do.

    Why: `up` on a running stack still provisions it again (the template's
    resources, the seed, the remembered stacks: about a second, most of it
    boto3's start-up), and `make lab-N` asked it before every run. This asks
    only what would make `up` do something: a service stopped or not
    answering (a few milliseconds on the embedded stack), or the registry
    missing or older than infra/template.yaml (then `up` provisions it again).
    The compose stack is always asked through `up` (it waits for the containers).
    """
    if config.mode == "compose":
        return False
    try:
        if config.registry_path.stat().st_mtime < TEMPLATE_PATH.stat().st_mtime:
            return False
    except OSError:  # no registry yet: never provisioned
        return False
    return all(running_pid(config, service) is not None and healthy(config, service) for service in SERVICES)


def worker_lines(config: StackConfig) -> list[str]:
    """The host's worker processes (one per warm Lambda environment): what holds the stack's memory."""
    try:
        with urllib.request.urlopen(config.host_url + "/_workshop/workers", timeout=3) as response:
            workers = json.loads(response.read())["Workers"]
    except (OSError, ValueError, KeyError) as exc:
        return [f"    workers: the host did not list them ({exc})"]
    if not workers:
        return ["    workers: none warm (each function starts one on its next invocation)"]
    known = [w["rss_mb"] for w in workers if w["rss_mb"] is not None]  # None: the system does not tell it (no procfs)
    total = f", {sum(known)} MB RSS" if known else ""
    lines = [f"    workers: {len(workers)}{total} (an idle one stops after {IDLE_EXTRA_WORKER_SECONDS:.0f} s, a function's last after {IDLE_WORKER_SECONDS:.0f} s)"]
    for w in workers:
        state = f"idle {w['idle_s']:.0f} s" if w["state"] == "idle" else "busy"
        lines.append(f"      {w['function']:<28} pid {w['pid']:<8} {state:<10} {'?' if w['rss_mb'] is None else w['rss_mb']} MB")
    return lines


def _pid_and_rss(pid: int) -> str:
    """"pid 123, 80 MB RSS"; the memory left out where the system does not tell it."""
    rss = system.rss_mb(pid)
    return f"pid {pid}" + ("" if rss is None else f", {rss} MB RSS")


def logs(config: StackConfig, lines: int = 40, say: Callable[[str], None] = print) -> None:
    for service in SERVICES:
        path = _log_file(config, service)
        say(f"==> {path} <==\n{_tail(path, lines)}\n")
    for path in sorted((config.state_dir / "logs" / "functions").glob("*.log")):
        say(f"==> {path} <==\n{_tail(path, lines)}\n")
