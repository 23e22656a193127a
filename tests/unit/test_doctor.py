"""make doctor: ✓ and ✗ lines with their fix, and an exit code that says whether any failed."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop.config import REPO_ROOT

DOCTOR = REPO_ROOT / "scripts" / "doctor.py"


def doctor(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DOCTOR)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env}, check=False)  # fmt: skip


def test_a_port_taken_by_another_program_is_named_with_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = doctor(WORKSHOP_EXPLORER_PORT=str(port))
    assert result.returncode == 1, result.stdout
    assert f"✗ port {port} is in use by another program (the Durable Explorer)" in result.stdout
    assert f"export WORKSHOP_EXPLORER_PORT={port + 100}" in result.stdout


def test_a_bad_port_value_fails_and_a_free_one_passes() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    result = doctor(WORKSHOP_XRAY_PORT="two-thousand", WORKSHOP_EXPLORER_PORT=str(free))
    assert "✗ WORKSHOP_XRAY_PORT='two-thousand' is not a port number" in result.stdout
    assert f"✓ port {free} is free (the Durable Explorer)" in result.stdout
    assert result.returncode == 1


def test_an_unsupported_python_is_refused_with_the_one_that_would_work() -> None:
    with tempfile.TemporaryDirectory() as folder:
        old = os.path.join(folder, "python3")
        with open(old, "w") as handle:
            handle.write("#!/bin/sh\necho 3.9\n")
        os.chmod(old, 0o755)
        result = doctor(PYTHON=old)
    assert "✗ Python: Python 3.11 to 3.14 is needed" in result.stdout and result.returncode == 1


def load_doctor():
    """scripts/doctor.py as a module, to call one check with a part of the machine faked."""
    spec = importlib.util.spec_from_file_location("doctor_script", DOCTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def listener() -> Iterator[tuple[int, int]]:
    """Another process listening on a free port: (its pid, the port), until the block ends."""
    other = subprocess.Popen([sys.executable, "-c", "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1); print(s.getsockname()[1], flush=True); sys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        yield other.pid, int(other.stdout.readline())
    finally:
        other.stdin.close()
        other.wait(timeout=10)


def record_pid(state: Path, service: str, pid: int) -> None:
    """What `make up` writes (workshop/stack/services.py): the service's pid in <state>/pids/<service>.pid."""
    (state / "pids").mkdir(parents=True, exist_ok=True)
    (state / "pids" / f"{service}.pid").write_text(str(pid))


def test_a_port_counts_as_the_stacks_only_when_the_stacks_process_listens_on_it(tmp_path, monkeypatch) -> None:
    """Found in CI: after `make demo` left the stack up, any program on the explorer's port was called the stack's."""
    module = load_doctor()
    monkeypatch.setenv("WORKSHOP_STATE_DIR", str(tmp_path))
    record_pid(tmp_path, "explorer", os.getpid())  # "the stack's explorer" is this process
    with socket.socket() as ours:
        ours.bind(("127.0.0.1", 0))
        ours.listen(1)
        assert module.port_holder("explorer", ours.getsockname()[1]) == ("stack", os.getpid())
    with listener() as (pid, port):
        assert module.port_holder("explorer", port)[0] == "other", "another process's port was called the stack's"


def test_the_stack_under_its_own_state_folder_and_ports_is_recognised(tmp_path) -> None:
    """Found in the room: a stack started with WORKSHOP_STATE_DIR had all its ports called "in use by another program"."""
    with listener() as (emulator, emulator_port), listener() as (explorer, explorer_port):
        record_pid(tmp_path, "emulator", emulator)
        record_pid(tmp_path, "explorer", explorer)
        result = doctor(WORKSHOP_STATE_DIR=str(tmp_path), WORKSHOP_EMULATOR_PORT=str(emulator_port),
                        WORKSHOP_EXPLORER_PORT=str(explorer_port))  # fmt: skip
    assert f"✓ port {emulator_port} is in use by this workshop's stack: the AWS emulator, pid {emulator}" in result.stdout
    assert f"✓ port {explorer_port} is in use by this workshop's stack: the Durable Explorer, pid {explorer}" in result.stdout


@pytest.mark.skipif(shutil.which("lsof") is None, reason="lsof is not installed")
def test_without_psutil_lsof_says_who_listens(tmp_path, monkeypatch) -> None:
    """Where psutil cannot tell (no environment yet, procfs hidden), lsof names the listening pid, so the stack's port and another program's are told apart."""
    module = load_doctor()
    monkeypatch.setattr(module, "_listens_by_psutil", lambda pid, port: None)
    monkeypatch.setenv("WORKSHOP_STATE_DIR", str(tmp_path))
    with listener() as (ours, our_port), listener() as (theirs, their_port):
        record_pid(tmp_path, "runner", ours)
        assert module.port_holder("runner", our_port) == ("stack", ours)
        assert module.port_holder("runner", their_port) == ("other", {theirs})


def test_without_psutil_or_lsof_doctor_says_it_could_not_tell(tmp_path, monkeypatch, capsys) -> None:
    """Neither psutil nor lsof: a live stack process makes the port "most likely" the stack's, said as a guess."""
    module = load_doctor()
    monkeypatch.setattr(module, "_listens_by_psutil", lambda pid, port: None)
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    monkeypatch.setenv("WORKSHOP_STATE_DIR", str(tmp_path))
    with listener() as (pid, port):
        record_pid(tmp_path, "function-host", pid)
        monkeypatch.setenv("WORKSHOP_HOST_PORT", str(port))
        module.check_ports()
        assert f"✓ port {port} is in use (could not tell by which process): most likely by this workshop's" in capsys.readouterr().out
        (tmp_path / "pids" / "function-host.pid").write_text("999999999")  # the stack is not running
        module.check_ports()
        assert f"✗ port {port} is in use by another program (the function host (Lambda endpoint))\n" in capsys.readouterr().out


def test_doctor_names_the_system_it_runs_on() -> None:
    from workshop import platform_support

    assert f"✓ {platform_support.os_name()}" in doctor().stdout.splitlines()[1]


def test_a_wsl_clone_on_the_windows_drive_is_refused_with_the_fix(monkeypatch, capsys) -> None:
    module = load_doctor()
    wsl = types.SimpleNamespace(os_name=lambda: "WSL", SUPPORTED="macOS, Linux, or Windows through WSL2")
    monkeypatch.setattr(module, "REPO", "/mnt/c/Users/ada/workshop")
    module.check_system(wsl)
    out = capsys.readouterr().out
    assert "✓ WSL (Linux on Windows), supported" in out
    assert "✗ the repository is inside WSL's own file system" in out and "cd ~ && git clone" in out
    monkeypatch.setattr(module, "REPO", "/home/ada/workshop")
    module.check_system(wsl)
    assert "✓ the repository is inside WSL's own file system" in capsys.readouterr().out
