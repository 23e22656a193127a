"""`make env` finds a supported Python by itself, and the supported range is written once."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from workshop.config import REPO_ROOT

PICK = REPO_ROOT / "scripts" / "pick-python"


def fake_python(folder: Path, name: str, version: str) -> None:
    """An executable that answers the version question as that Python would."""
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)


def run(*args: str, path: Path, python: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{path}:/usr/bin:/bin", **({"PYTHON": python} if python else {})}
    return subprocess.run([str(PICK), *args], capture_output=True, text=True, env=env, timeout=30, check=False)


def test_pyproject_says_the_same_range_as_pick_python() -> None:
    supported = subprocess.run([str(PICK), "--range"], capture_output=True, text=True, check=True).stdout.split()
    spec = re.search(r'requires-python = ">=(\d+\.\d+),<(\d+)\.(\d+)"', (REPO_ROOT / "pyproject.toml").read_text())
    assert spec, "pyproject.toml: requires-python must be >=X.Y,<X.Z"
    low, major, high = spec.group(1), spec.group(2), int(spec.group(3))
    assert supported == [f"{major}.{minor}" for minor in range(int(low.split(".")[1]), high)]


def test_an_unsupported_python3_is_passed_over_for_a_supported_python3_x(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3", "3.10")
    fake_python(tmp_path, "python3.12", "3.12")
    fake_python(tmp_path, "python3.13", "3.13")
    assert run(path=tmp_path).stdout.strip() == "python3.13"


def test_python_set_by_the_user_wins_and_an_unsupported_one_is_refused_with_the_fix(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3", "3.10")
    fake_python(tmp_path, "python3.13", "3.13")
    assert run(path=tmp_path, python="python3").stdout.strip() == "python3"
    checked = run("--check", "python3", path=tmp_path)
    assert checked.returncode == 1
    assert "python3 is 3.10" in checked.stderr and "PYTHON=python3.13" in checked.stderr
    assert run("--check", "python3.13", path=tmp_path).returncode == 0
    assert os.access(PICK, os.X_OK)
