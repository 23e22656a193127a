"""workshop.system: a recorded process is found by pid and create time; stopping one stops all it started.

Found on a laptop (issue 21): a function host killed with SIGKILL left its
worker processes running, since only its pid was signalled. Each stop test starts
a small leader as the stack starts a service (a session and process group of
its own) with a child that ignores SIGTERM, stops it with a short deadline,
and checks that no process is left and that the report says what was killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from workshop import system
from workshop.config import StackConfig
from workshop.stack import services
from workshop.stack.services import SERVICES

CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"


def leader_code(ignores_sigterm: bool) -> str:
    return textwrap.dedent(f"""
        import signal, subprocess, sys, time
        if {ignores_sigterm}:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", {CHILD!r}], stdout=subprocess.PIPE, text=True)
        child.stdout.readline()  # its SIGTERM is ignored from here on
        print(child.pid, flush=True)
        time.sleep(600)
    """)


@contextmanager
def leader(ignores_sigterm: bool) -> Iterator[tuple[system.Handle, int]]:
    """A leader of its own session with one child: (its handle, the child's pid); both killed at the end whatever happens."""
    process = subprocess.Popen([sys.executable, "-c", leader_code(ignores_sigterm), "stop-tree-test"], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)  # fmt: skip
    child = int(process.stdout.readline())
    try:
        handle = system.find(system.identity_of(process.pid), "stop-tree-test")
        assert handle is not None
        yield handle, child
    finally:
        for pid in (child, process.pid):
            if system.alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.stdout.close()
        process.wait()


def test_a_leader_that_ignores_sigterm_is_killed_with_its_children() -> None:
    with leader(ignores_sigterm=True) as (handle, child):
        stopped = system.stop_tree(handle, deadline_s=0.5)
        assert not system.alive(child), "the child outlived its leader's SIGKILL"
        assert handle.gone()
    assert stopped.describe(("worker", "workers")) == f"killed after 0 s (pid {handle.pid}, 1 worker)"


def test_a_child_left_running_after_its_leader_ended_is_killed_and_said_so() -> None:
    with leader(ignores_sigterm=False) as (handle, child):
        stopped = system.stop_tree(handle, deadline_s=0.5, stragglers_s=0.5)
        assert not system.alive(child), "the child was left running"
    assert stopped.describe(("worker", "workers")) == f"stopped (pid {handle.pid}, 1 worker; 1 left running, killed)"


def test_where_psutil_sees_no_process_the_group_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Linux without procfs (the portability test's namespace): no descendants can be listed; the group is what is left to signal."""
    monkeypatch.setattr(system, "sees_processes", lambda: False)
    with leader(ignores_sigterm=True) as (handle, child):
        stopped = system.stop_tree(handle, deadline_s=0.5)
        monkeypatch.undo()
        assert not system.alive(child), "the child outlived its leader's SIGKILL"
    assert stopped.describe() == f"killed after 0 s (pid {handle.pid})"


def test_a_recorded_service_is_found_by_pid_create_time_and_command_line(tmp_path: Path) -> None:
    """A pid the kernel gave to another process since (same pid, another create time) is never taken for the service."""
    config = StackConfig(state_dir=tmp_path)
    service = next(s for s in SERVICES if s.name == "xray-sink")
    with leader(ignores_sigterm=False) as (handle, _child):
        services.record(config, service, handle.pid)
        assert services.running_pid(config, service) is None, "the command line does not hold the service's marker"
        marked = replace(service, marker="stop-tree-test")
        assert services.running_pid(config, marked) == handle.pid
        created = tmp_path / "pids" / "xray-sink.created"
        created.write_text(repr(float(created.read_text()) - 60))  # as if the recorded process had started a minute before
        assert services.running_pid(config, marked) is None
    services.forget(config, marked)
    assert not list((tmp_path / "pids").glob("*"))


@pytest.mark.parametrize("macos", [False, True], ids=["every socket listed", "root needed to list every socket (macOS)"])
def test_the_owner_of_a_taken_port_is_named(macos: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if macos:
        def refused(kind: str = "inet") -> list:
            raise psutil.AccessDenied()

        monkeypatch.setattr(psutil, "net_connections", refused)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        assert system.port_owner(taken.getsockname()[1]) == f"pid {os.getpid()}: {' '.join(psutil.Process().cmdline())[:120]}"


def test_a_group_whose_leader_is_an_unreaped_zombie_is_gone_and_one_with_a_live_member_is_not() -> None:
    """A leader whose parent does not reap it stays a zombie, and its group still answers signal 0.

    Found by `make down` taking 2 s a service on a machine whose init reaps late:
    every stop waited out the stragglers' deadline on a group of one zombie.
    """
    parent_code = textwrap.dedent("""
        import subprocess, sys, time
        orphan = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.readline()"], stdin=subprocess.PIPE,
                                  start_new_session=True)
        print(orphan.pid, flush=True)
        sys.stdin.readline()  # ends the leader, which this parent does not reap
        orphan.stdin.close()
        sys.stdin.readline()
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        group = system._Group(int(parent.stdout.readline()), None)
        assert not group.gone(), "a group whose leader runs is not gone"
        parent.stdin.write("\n")
        parent.stdin.flush()
        leader = psutil.Process(group.pid)
        deadline = time.monotonic() + 30
        while leader.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the leader did not end within 30 s"
            time.sleep(0.02)
        os.killpg(group.pid, 0)  # the zombie keeps its group answering: the case under test
        assert group.gone()
    finally:
        parent.kill()
        parent.wait(timeout=10)
