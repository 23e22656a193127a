"""make doctor: ✓ and ✗ lines with their fix, and an exit code that says whether any failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile

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


def test_a_port_counts_as_the_stacks_only_when_the_stacks_process_listens_on_it(tmp_path, monkeypatch) -> None:
    """Found in CI: after `make demo` left the stack up, any program on the explorer's port was called the stack's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("doctor_script", DOCTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "REPO", str(tmp_path))
    (tmp_path / ".workshop" / "pids").mkdir(parents=True)
    (tmp_path / ".workshop" / "pids" / "explorer.pid").write_text(str(os.getpid()))  # "the stack's explorer" is this process
    with socket.socket() as ours:
        ours.bind(("127.0.0.1", 0))
        ours.listen(1)
        assert module._own_service_running("explorer", ours.getsockname()[1])
    other = subprocess.Popen([sys.executable, "-c", "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1); print(s.getsockname()[1], flush=True); sys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        port = int(other.stdout.readline())
        assert not module._own_service_running("explorer", port), "another process's port was called the stack's"
    finally:
        other.stdin.close()
        other.wait(timeout=10)
