"""One wheelhouse for a mixed room: `make doctor` says whether it has THIS laptop's platform and Python.

Found in a room: a wheelhouse made on a Python 3.11 laptop was copied to a
3.12 one, doctor said "✓ `make env` will install from the wheelhouse", and
`make env` then failed with no network to fall back on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from workshop import wheelhouse
from tests.unit.test_doctor import load_doctor
from workshop.config import REPO_ROOT

# What the older, one-machine script left for a Linux x86_64 laptop on Python 3.11: compiled and pure wheels.
LINUX_311 = (
    "pydantic_core-2.50.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "pyyaml-6.0.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "watchfiles-1.3.0-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "boto3-1.44.8-py3-none-any.whl",
)


def fill(folder: Path, names: tuple[str, ...]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")
    return folder


def doctor_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
              folder: Path, python: str, system: str = "Linux", machine: str = "x86_64") -> str:  # fmt: skip
    """make doctor in a fresh clone (no environments) on a laptop with this Python, OS and CPU: its output."""
    module = load_doctor()
    clone = tmp_path / "clone"
    clone.mkdir(exist_ok=True)
    monkeypatch.setattr(module, "REPO", str(clone))
    monkeypatch.setenv("WORKSHOP_WHEELHOUSE", str(folder))
    monkeypatch.setattr(module, "check_python", lambda: ("python" + python, python, system, machine))
    for quiet in ("check_ports", "check_loopback", "check_make", "check_disk"):
        monkeypatch.setattr(module, quiet, lambda: None)
    module.main()
    return capsys.readouterr().out


def test_a_wheelhouse_from_the_older_script_for_another_python_is_refused(tmp_path, monkeypatch, capsys) -> None:
    folder = fill(tmp_path / "wheelhouse", LINUX_311)
    out = doctor_on(tmp_path, monkeypatch, capsys, folder, "3.12")
    assert "✗ the wheelhouse" in out and "has no wheels for this laptop (linux-x86_64, Python 3.12): pydantic-core 2.50.5, pyyaml 6.0.4" in out
    assert "make wheelhouse PLATFORMS=linux-x86_64 PYTHONS=3.12" in out
    assert "✓ environments not built yet; `make env` will install from the wheelhouse" in doctor_on(tmp_path, monkeypatch, capsys, folder, "3.11")
    assert "has no wheels for this laptop (linux-aarch64, Python 3.11)" in doctor_on(tmp_path, monkeypatch, capsys, folder, "3.11", machine="aarch64")


def manifested(folder: Path, combinations: dict[str, dict], requirements: dict[str, str] | None = None) -> Path:
    """A wheelhouse as `make wheelhouse` leaves it: the files and MANIFEST.json."""
    fill(folder, tuple(name for entry in combinations.values() for name in entry["files"]))
    (folder / wheelhouse.MANIFEST).write_text(json.dumps({
        "requirements": wheelhouse.requirements_hashes() if requirements is None else requirements,
        "combinations": combinations,
    }))  # fmt: skip
    return folder


MAC_313 = {"macos-arm64 3.13": {"files": ["pyyaml-6.0.4-cp313-cp313-macosx_11_0_arm64.whl", "boto3-1.44.8-py3-none-any.whl"], "missing": {}}}


def test_the_manifest_names_the_missing_combination_and_the_command_that_adds_it(tmp_path, monkeypatch, capsys) -> None:
    folder = manifested(tmp_path / "wheelhouse", MAC_313)
    out = doctor_on(tmp_path, monkeypatch, capsys, folder, "3.12", system="Darwin", machine="arm64")
    assert "no packages for this laptop (macos-arm64, Python 3.12); it has: macos-arm64 3.13" in out
    assert "fix: add it where there is network: `make wheelhouse PLATFORMS=macos-arm64 PYTHONS=3.12`" in out
    out = doctor_on(tmp_path, monkeypatch, capsys, folder, "3.13", system="Darwin", machine="arm64")
    assert "✓ environments not built yet; `make env` will install from the wheelhouse" in out and "(macos-arm64, Python 3.13" in out


def test_a_wheelhouse_for_older_pins_or_copied_in_part_is_refused(tmp_path, monkeypatch, capsys) -> None:
    stale = manifested(tmp_path / "stale", MAC_313, requirements={"requirements/workshop.txt": "0" * 64})
    out = doctor_on(tmp_path, monkeypatch, capsys, stale, "3.13", system="Darwin", machine="arm64")
    assert "was made for other pins: requirements/" in out and "changed since" in out
    partial = manifested(tmp_path / "partial", MAC_313)
    (partial / MAC_313["macos-arm64 3.13"]["files"][0]).unlink()
    out = doctor_on(tmp_path, monkeypatch, capsys, partial, "3.13", system="Darwin", machine="arm64")
    assert "lacks 1 of its files for macos-arm64 3.13, e.g. pyyaml-6.0.4" in out and "copy the whole folder again" in out


def test_a_machine_no_wheelhouse_serves_is_told_to_use_the_index(tmp_path, monkeypatch, capsys) -> None:
    folder = manifested(tmp_path / "wheelhouse", MAC_313)
    out = doctor_on(tmp_path, monkeypatch, capsys, folder, "3.13", machine="armv7l")
    assert "cannot serve this machine (Linux armv7l)" in out and "move the wheelhouse folder away" in out


@pytest.mark.parametrize(("name", "platform", "python", "fits"), [
    ("pyyaml-6.0.4-cp313-cp313-macosx_11_0_arm64.whl", "macos-arm64", "3.13", True),
    ("pyyaml-6.0.4-cp313-cp313-macosx_11_0_arm64.whl", "macos-arm64", "3.12", False),
    ("pyyaml-6.0.4-cp313-cp313-macosx_11_0_arm64.whl", "macos-x86_64", "3.13", False),
    ("uvloop-0.23.0-cp313-cp313-macosx_10_13_universal2.whl", "macos-x86_64", "3.13", True),
    ("watchfiles-1.3.0-cp310-abi3-macosx_11_0_arm64.whl", "macos-arm64", "3.14", True),
    ("watchfiles-1.3.0-cp310-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "linux-x86_64", "3.14", False),
    ("greenlet-3.5.6-cp314-cp314-manylinux_2_24_aarch64.manylinux_2_28_aarch64.whl", "linux-aarch64", "3.14", True),
    ("greenlet-3.5.6-cp314-cp314t-manylinux_2_24_aarch64.manylinux_2_28_aarch64.whl", "linux-aarch64", "3.14", False),
    ("greenlet-3.5.6-cp314-cp314-musllinux_1_2_aarch64.whl", "linux-aarch64", "3.14", False),
    ("six-1.17.0-py2.py3-none-any.whl", "linux-aarch64", "3.11", True),
    ("powertools-0.1.0.tar.gz", "linux-x86_64", "3.11", False),
])  # fmt: skip
def test_a_wheels_tags_say_which_laptops_install_it(name: str, platform: str, python: str, fits: bool) -> None:
    assert wheelhouse.wheel_fits(name, platform, python) is fits


@pytest.mark.parametrize(("system", "machine", "platform"), [
    ("Darwin", "arm64", "macos-arm64"), ("Darwin", "x86_64", "macos-x86_64"), ("Linux", "x86_64", "linux-x86_64"),
    ("Linux", "aarch64", "linux-aarch64"), ("Linux", "armv7l", None), ("Windows", "AMD64", None),
])  # fmt: skip
def test_each_laptop_kind_is_named(system: str, machine: str, platform: str | None) -> None:
    assert wheelhouse.local_platform(system, machine) == platform


def test_unknown_platforms_or_pythons_are_refused_with_the_choices() -> None:
    with pytest.raises(SystemExit, match="PLATFORMS=windows-x86_64: windows-x86_64 is not one of macos-arm64"):
        wheelhouse.main(["--platforms", "windows-x86_64"])
    with pytest.raises(SystemExit, match="PYTHONS=3.9: 3.9 is not one of 3.11"):
        wheelhouse.main(["--platforms", "macos-arm64", "--pythons", "3.9"])


def test_the_wheelhouse_adds_what_make_env_installs_besides_the_requirements() -> None:
    """make-venv installs its pinned uv from the wheelhouse, and the editable install builds with setuptools."""
    assert wheelhouse.uv_pin() == "uv==" + next(
        row.split("=", 1)[1] for row in (REPO_ROOT / "scripts" / "make-venv").read_text().splitlines() if row.startswith("uv_version="))
    assert 'requires = ["setuptools>=69"]' in (REPO_ROOT / "pyproject.toml").read_text() and wheelhouse.SETUPTOOLS.startswith("setuptools==")


def fake_pip(args: list[str], **_: object) -> subprocess.CompletedProcess[str]:
    """pip download as PyPI would answer it: a compiled and a pure wheel per combination; on Python 3.14 no
    greenlet wheel (every file fails), on 3.13 none of SAM's cryptography (requirements/sam.txt alone fails)."""
    python, tag, into = args[args.index("--python-version") + 1], args[args.index("--platform") + 1], Path(args[args.index("-d") + 1])
    if python == "3.14" or (python == "3.13" and args[-1].endswith("sam.txt")):
        pin = "greenlet==3.5.6" if python == "3.14" else "cryptography==50.0.2"
        return subprocess.CompletedProcess(args, 1, "", f"ERROR: Could not find a version that satisfies the requirement {pin} (from versions: 3.2.3, 3.2.4)\n")
    cp = "cp3" + python.split(".")[1]
    for name in (f"greenlet-3.5.6-{cp}-{cp}-{tag}.whl", "six-1.17.0-py2.py3-none-any.whl"):
        (into / name).write_bytes(b"wheel")
    return subprocess.CompletedProcess(args, 0, "", "")


def test_each_run_adds_its_combinations_and_what_pypi_lacks_is_named(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(wheelhouse.subprocess, "run", fake_pip)
    folder = tmp_path / "wheelhouse"
    assert wheelhouse.download(folder, ["macos-arm64"], ["3.12", "3.14"]) == 1, "3.14 cannot build the environments"
    out = capsys.readouterr().out
    assert "[1/2] macos-arm64 3.12" in out and "2 wheels" in out
    assert "[2/2] macos-arm64 3.14" in out and "      no requirements/workshop.txt: no wheel of greenlet==3.5.6\n" in out
    assert "macos-arm64 3.14: without requirements/awscli.txt" in out and "so `make env` needs the network there" in out
    assert wheelhouse.download(folder, ["linux-x86_64"], ["3.12", "3.13"]) == 0, "3.13 lacks only SAM's pins"
    out = capsys.readouterr().out
    assert "4 wheels, 0 MB" in out and "for linux-x86_64 3.12, linux-x86_64 3.13, macos-arm64 3.12, macos-arm64 3.14." in out
    assert "linux-x86_64 3.13: without requirements/sam.txt, so `make env` works offline" in out
    manifest = wheelhouse.read_manifest(folder)
    assert manifest["combinations"]["linux-x86_64 3.12"] == {
        "files": ["greenlet-3.5.6-cp312-cp312-manylinux2014_x86_64.whl", "six-1.17.0-py2.py3-none-any.whl"], "missing": {}}
    assert wheelhouse.check(folder, "linux-x86_64", "3.12", "Linux x86_64")[0]
    ok, what, _ = wheelhouse.check(folder, "linux-x86_64", "3.13", "Linux x86_64")
    assert ok and "(without requirements/sam.txt: `make test`, `validate`, `deploy` or `screenshots` need the network)" in what
    ok, what, fix = wheelhouse.check(folder, "macos-arm64", "3.14", "Darwin arm64")
    assert not ok and "cannot build the environments for macos-arm64 3.14: requirements/emulator.txt: no wheel of greenlet==3.5.6" in what
    assert "PyPI has no wheel of it for this laptop" in fix
    assert not [name for name in os.listdir(folder) if name.startswith(".scratch-")]


def test_the_files_make_env_needs_are_those_of_the_makefiles_env_target() -> None:
    """ENV_REQUIREMENTS decides whether a combination builds the environments offline: it must follow the Makefile."""
    makefile = (REPO_ROOT / "Makefile").read_text()
    stamps = re.search(r"^ENV_STAMPS := (.*)$", makefile, re.MULTILINE).group(1).split()
    rules = dict(re.findall(r"^(\$\(\w+\)/\.installed): (requirements/\S+)", makefile, re.MULTILINE))
    assert sorted(rules[stamp] for stamp in stamps) == sorted(wheelhouse.ENV_REQUIREMENTS)


@pytest.mark.parametrize("text", ["{not json", '{"combinations": {"macos-arm64 3.13": ["a.whl"]}}', "[]", '{"combinations": 3}'])
def test_a_manifest_of_another_shape_falls_back_to_the_tags(text: str, tmp_path: Path) -> None:
    """Never a traceback from doctor: a broken or foreign MANIFEST.json is read as none."""
    folder = fill(tmp_path / "wheelhouse", LINUX_311)
    (folder / wheelhouse.MANIFEST).write_text(text)
    assert wheelhouse.read_manifest(folder) is None
    assert wheelhouse.check(folder, "linux-x86_64", "3.11", "Linux x86_64")[0]
