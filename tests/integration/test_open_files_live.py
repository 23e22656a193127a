"""Under macOS's default open-file limit (a soft limit of 256), `make up` raises it for the stack and a lab runs.

Every step is started with its soft RLIMIT_NOFILE set to 256 (the hard
limit as it is, as on a Mac), against a private stack: `up` says in one line
that it raised the limit and every service it started has the raised one;
lab 1's solution (what `make lab-1` runs) passes under the same 256.
"""

from __future__ import annotations

import resource
from pathlib import Path

import psutil
import pytest

from tests.integration.cli_steps import DOWN, LAB_1, UP, private_env, run_step, stopped_at_the_end
from tests.integration.conftest import make_config
from workshop import stack
from workshop.stack.limits import WANTED_OPEN_FILES

pytestmark = pytest.mark.live

MACOS_SOFT_LIMIT = 256


def macos_limit() -> None:
    """In the child before it runs: the soft open-file limit a Mac's shell has."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (MACOS_SOFT_LIMIT, hard))


def test_up_raises_a_low_open_file_limit_and_a_lab_runs_under_it(tmp_path: Path) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    expected = WANTED_OPEN_FILES if hard == resource.RLIM_INFINITY else min(WANTED_OPEN_FILES, hard)
    if expected <= MACOS_SOFT_LIMIT:
        pytest.skip(f"the hard open-file limit here ({hard}) leaves nothing to raise to")
    config = make_config(tmp_path / "state")
    env = private_env(config, tmp_path)
    with stopped_at_the_end(config):
        said = run_step("up", UP, env, 180, tmp_path, preexec_fn=macos_limit)
        assert f"open files: raised the limit from {MACOS_SOFT_LIMIT} (`ulimit -n`) to {expected}" in said, said
        if hasattr(psutil.Process, "rlimit"):  # Linux: a process's limits can be read from outside it
            for service in stack.SERVICES:
                pid = stack.running_pid(config, service)
                assert pid is not None, f"{service.name} is not running:\n{said}"
                soft = psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE)[0]
                assert soft >= expected, f"{service.name} runs with a soft open-file limit of {soft}"
        run_step("lab 1", LAB_1, env, 300, tmp_path, preexec_fn=macos_limit)
        run_step("down", DOWN, env, 120, tmp_path)
