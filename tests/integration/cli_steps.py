"""The stack's commands run as a learner runs them, one step at a time, each with a deadline.

Shared by the tests that run the lifecycle in a changed environment (procfs
hidden, a low open-file limit): a step that fails or overruns is named, with
its output; whatever happens, the private stack is stopped afterwards by the
pids recorded in its state folder, from this process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from workshop import stack
from workshop.config import REPO_ROOT, StackConfig, stack_env
from workshop.labs.progress import PATH_ENV

UP = [sys.executable, "-m", "workshop.stack", "up"]
STATUS = [sys.executable, "-m", "workshop.stack", "status"]
DOWN = [sys.executable, "-m", "workshop.stack", "down"]
DEMO = [sys.executable, "-m", "workshop.tools.demo"]  # make demo
LAB_1 = [sys.executable, "-m", "workshop.labs", "run", "1"]  # make lab-1 (with LAB_TARGET=solution: the solution, no progress recorded)


def private_env(config: StackConfig, tmp_path: Path) -> dict[str, str]:
    """The environment of the commands: the private stack's ports and state folder, the solution of a lab, progress kept aside."""
    return {**os.environ, **stack_env(config), "LAB_TARGET": "solution", PATH_ENV: str(tmp_path / "lab-progress.json"), "COLUMNS": "120"}


def run_step(name: str, argv: list[str], env: dict[str, str], deadline_s: float, log_dir: Path,
             preexec_fn: Callable[[], None] | None = None) -> str:  # fmt: skip
    """Run one step to its end; fail naming it, with its output, on a non-zero exit or at the deadline."""
    out = log_dir / f"step-{name.replace(' ', '-')}.log"
    with open(out, "w", encoding="utf-8") as sink:
        process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=preexec_fn)  # fmt: skip
        try:
            code = process.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"step `{name}` did not end within {deadline_s:.0f} s:\n{out.read_text(encoding='utf-8')[-4000:]}")
    output = out.read_text(encoding="utf-8")
    if code != 0:
        pytest.fail(f"step `{name}` exited with {code}:\n{output[-4000:]}")
    return output


def listening_ports(config: StackConfig) -> list[int]:
    """The stack's ports something still answers on (TCP connect) or holds (the X-Ray sink's UDP bind)."""
    held = []
    for service in stack.SERVICES:
        port = service.port(config)
        with socket.socket() as probe:
            probe.settimeout(1.0)
            answers = probe.connect_ex((config.bind_host, port)) == 0
        if answers or not stack.port_free(config.bind_host, port, udp=service.udp):
            held.append(port)
    return held


@contextmanager
def stopped_at_the_end(config: StackConfig) -> Iterator[None]:
    """Whatever the steps did, stop the private stack by its recorded pids (from here, where psutil sees every process)."""
    try:
        yield
    finally:
        stack.down(config, say=lambda line: None)
