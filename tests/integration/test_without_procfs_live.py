"""The stack's lifecycle on a system without procfs, as on macOS (issue 21: "every laptop in the room").

Simulated on Linux: each step runs in a private mount namespace with an
empty tmpfs over /proc (`unshare -m --propagation private`, then a mount
that is never seen outside it), so nothing the workshop runs can read
procfs, psutil included. Against a private stack (free ports, a temporary
state folder): up, status (five running), the demo twice, lab 1's solution
(what `make lab-1` runs), down with nothing left listening on any of the
five ports and no process of the stack left (both checked from outside the
namespace), and up again. Before this, `make status` called such a stack
stopped and `make down` left all five listening.

Mounting needs root: CI runs as root, so it runs there; elsewhere it skips.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psutil
import pytest

from tests.integration.cli_steps import DEMO, DOWN, LAB_1, STATUS, UP, listening_ports, private_env, run_step, stopped_at_the_end
from tests.integration.conftest import make_config
from workshop import stack, system
from workshop.config import StackConfig

pytestmark = pytest.mark.live

# The empty /proc is checked before the command runs: a mount that failed silently would prove nothing.
HIDE_PROCFS = 'mount -t tmpfs tmpfs /proc && [ -z "$(ls -A /proc)" ] && exec "$@"'


def without_procfs(argv: list[str]) -> list[str]:
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", HIDE_PROCFS, "sh", *argv]


@pytest.fixture
def can_hide_procfs() -> None:
    if os.geteuid() != 0:
        pytest.skip("hiding procfs needs root (a mount in a private namespace); CI runs this as root")
    if shutil.which("unshare") is None:
        pytest.skip("hiding procfs needs unshare (util-linux), which this system does not have")


def stack_pids(config: StackConfig) -> set[int]:
    """Every process of the running stack, seen from outside the namespace: the services and their workers."""
    return {pid for service in stack.SERVICES if (leader := stack.running_pid(config, service)) for pid in system.tree_pids(leader)}


def test_the_stack_lives_and_stops_without_procfs(can_hide_procfs: None, tmp_path: Path) -> None:
    config = make_config(tmp_path / "state")
    env = private_env(config, tmp_path)

    def step(name: str, argv: list[str], deadline_s: float) -> str:
        return run_step(name, without_procfs(argv), env, deadline_s, tmp_path)

    with stopped_at_the_end(config):
        step("up", UP, 180)
        said = step("status", STATUS, 30)
        assert sum(" healthy (pid " in line for line in said.splitlines()) == 5, f"`status` did not find five services running:\n{said}"
        step("demo", DEMO, 300)
        step("demo again", DEMO, 300)
        step("lab 1", LAB_1, 300)
        before_down = stack_pids(config)
        assert len(before_down) > 5, "no worker was running before `down`: the test proves less than it says"
        said = step("down", DOWN, 120)
        assert "not running" not in said, f"`down` did not find every service:\n{said}"
        assert listening_ports(config) == [], f"still listening after `down`:\n{said}"
        assert not [pid for pid in before_down if system.alive(pid)], f"processes of the stack left after `down`:\n{said}"
        step("up again", UP, 180)
        said = step("down again", DOWN, 120)
        assert listening_ports(config) == [], f"still listening after the second `down`:\n{said}"
    assert psutil.pid_exists(os.getpid()), "the tmpfs over /proc was seen outside its namespace"
