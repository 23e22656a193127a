"""What the soak leaves behind: the state folder's size before `down`, and after it no process, port or open file of the stack.

Why check at all: a soak that kills workers and restarts services by pid is
where an orphaned worker, a port still held, or a log that grows without
bound would show. The worker pids are the host's own list (GET
/_workshop/workers), taken just before the stack is stopped. The logs and
segments.jsonl are capped (workshop/capped_files.py); their sizes count the
rotated files (.1, .2) too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from workshop import capped_files, stack, system
from workshop.config import StackConfig
from workshop.tools.soak.chaos import worker_pids


def folder_mb(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                pass
    return round(total / 1e6, 1)


def before_down(config: StackConfig) -> dict[str, Any]:
    """Sizes of the state folder and its largest parts, and the processes to look for after `down`."""
    state = config.state_dir
    segments = state / "xray" / "segments.jsonl"
    return {
        "state_mb": folder_mb(state),
        "segments_jsonl_mb": round(capped_files.total_bytes(segments) / 1e6, 1),
        "logs_mb": folder_mb(state / "logs"),
        "runner_store_mb": folder_mb(state / "runner"),
        "stall_guard_repairs": stall_guard_repairs(state / "logs" / "runner.log"),
        "_pids": [pid for s in stack.SERVICES if (pid := stack.running_pid(config, s))] + worker_pids(config),
        "_ports": [s.port(config) for s in stack.SERVICES],
    }


def stall_guard_repairs(runner_log: Path) -> int:
    """How many lost wake-ups the runner's stall guard repaired (its WARNING lines; workshop/runner/stall_guard.py)."""
    try:
        lines = capped_files.read_lines(runner_log)  # the rotated files too
    except OSError:
        return 0
    return sum(1 for line in lines if "stall guard: " in line and "could not check" not in line)


def after_down(config: StackConfig, before: dict[str, Any]) -> dict[str, Any]:
    """The stack's processes still alive, its ports still bound and its files still open once `down` returned (all must be empty)."""
    pids, ports = before.pop("_pids"), before.pop("_ports")
    return {
        **before,
        "processes_left": [pid for pid in pids if system.alive(pid)],
        "ports_left": [port for port in ports if not stack.port_free(config.bind_host, port)],
        "open_files_left": system.open_files_under(config.state_dir),
    }
