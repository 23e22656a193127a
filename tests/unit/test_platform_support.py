"""Native Windows (a Python without fcntl): one message that says where the workshop runs, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workshop import platform_support
from workshop.config import REPO_ROOT

# Every entry point a learner or a Makefile target runs: the CLI, the stack, the labs, the demo, the explorer.
ENTRY_POINTS = (
    ["-m", "workshop", "--help"],
    ["-m", "workshop.stack", "status"],
    ["-m", "workshop.labs", "progress"],
    ["-m", "workshop.tools.demo"],
    ["-m", "workshop.explorer"],
    [str(REPO_ROOT / "scripts" / "doctor.py")],
)


def without_fcntl(args: list[str], prelude: Path) -> subprocess.CompletedProcess[str]:
    """Run python with `import fcntl` failing, as on Windows: a sitecustomize on PYTHONPATH blocks it at start-up."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(prelude), str(REPO_ROOT)])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT,
                          timeout=60, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def prelude(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("no-fcntl")
    (folder / "sitecustomize.py").write_text("import sys\nsys.modules['fcntl'] = None  # `import fcntl` raises ImportError\n")
    return folder


@pytest.mark.parametrize("args", ENTRY_POINTS, ids=lambda args: args[-1] if len(args) == 1 else args[1])
def test_every_entry_point_says_where_the_workshop_runs_without_a_traceback(args: list[str], prelude: Path) -> None:
    result = without_fcntl(args, prelude)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "no fcntl module" in output and "WSL2" in output and ".devcontainer/" in output, output
    assert output.count("fcntl module") == 1, "the message is printed once"


def test_the_guard_itself_sees_the_blocked_import(prelude: Path) -> None:
    """The tests above would pass for a wrong reason if the prelude did not block fcntl."""
    result = without_fcntl(["-c", "import fcntl"], prelude)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr  # as on Windows


def test_native_windows_gets_the_wsl_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)
    monkeypatch.setattr(sys, "platform", "win32")
    problem = platform_support.posix_problem()
    assert problem is not None and "does not run on native Windows" in problem
    assert "wsl --install -d Ubuntu" in problem and "not under /mnt/c" in problem and "Reopen in Container" in problem
    assert all(len(line) <= 79 for line in problem.splitlines())
    with pytest.raises(SystemExit) as stopped:
        platform_support.require_posix()
    assert stopped.value.code == problem  # SystemExit(str): printed to stderr, exit code 1


def test_a_posix_python_passes() -> None:
    assert platform_support.posix_problem() is None


@pytest.mark.parametrize(("platform", "distro", "version", "name"), [
    ("darwin", None, None, "macOS"),
    ("linux", None, "6.8.0-49-generic", "Linux"),
    ("linux", None, "5.15.167.4-microsoft-standard-WSL2", "WSL"),
    ("linux", "Ubuntu", None, "WSL"),
    ("win32", None, None, "Windows"),
    ("freebsd14", None, None, "freebsd14"),
])  # fmt: skip
def test_the_system_is_named_as_a_learner_would(platform: str, distro: str | None, version: str | None, name: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "platform", platform)
    if distro:
        monkeypatch.setenv("WSL_DISTRO_NAME", distro)
    else:
        monkeypatch.delenv("WSL_DISTRO_NAME", raising=False)
    monkeypatch.setattr(platform_support, "kernel_release", lambda: version or "")
    assert platform_support.os_name() == name
