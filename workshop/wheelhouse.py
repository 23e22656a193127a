"""One wheelhouse for a mixed room: every pinned package, for each laptop kind and Python, in one folder.

`make wheelhouse` (scripts/make-wheelhouse) runs this module with the picked
Python: for each combination of PLATFORMS and PYTHONS it asks pip for wheels
only (`pip download --only-binary=:all: --platform ... --python-version ...
--implementation cp`), so one instructor's laptop prepares the macOS and
Linux laptops of a room on 3.11 to 3.14, and `make env` (scripts/make-venv,
--no-index --find-links) installs from the folder with no network.

Each combination downloads into a scratch folder first, so the manifest
(MANIFEST.json) can list exactly the files that combination needs, with the
hashes of the requirements files they were resolved from. `make doctor`
(stdlib only, before any environment exists) reads it through check(): a
wheelhouse made for another Python or laptop, for older pins, or copied only
in part is named with the command that fixes it, instead of passing and
letting `make env` fail offline. Without a manifest (a folder from the
older, one-machine script) check() reads the wheels' tags instead. A
requirements file PyPI has no wheel of for a combination is recorded with
pip's reason: only those `make env` installs (ENV_REQUIREMENTS) make the
combination unusable offline.

Standard library only: it runs before any environment exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MANIFEST = "MANIFEST.json"

# Each laptop kind, and the platform tags pip is given for it. macOS 11 is the
# oldest macOS of every Apple silicon Mac; pip adds the macOS 10.x and
# universal2 tags it implies. Linux: manylinux2014 (pip adds manylinux2010
# and manylinux1) and manylinux_2_17 to _2_28, oldest first so pip prefers
# the wheel that runs on the most systems: glibc 2.28 or newer (Debian 10,
# Ubuntu 20.04, WSL's Ubuntu) takes them all, and some pins (greenlet on
# aarch64) publish nothing older. No musllinux: Alpine is not a laptop.
def _manylinux(arch: str) -> tuple[str, ...]:
    return ("manylinux2014_" + arch, *("manylinux_2_%d_%s" % (glibc, arch) for glibc in range(17, 29)))


PLATFORMS: dict[str, tuple[str, ...]] = {
    "macos-arm64": ("macosx_11_0_arm64",),
    "macos-x86_64": ("macosx_11_0_x86_64",),
    "linux-x86_64": _manylinux("x86_64"),
    "linux-aarch64": _manylinux("aarch64"),
}
# What a wheel's platform tag ends with, per laptop kind, for the tag check without a manifest.
_ARCH_SUFFIXES = {
    "macos-arm64": ("_arm64", "_universal2"),
    "macos-x86_64": ("_x86_64", "_intel", "_universal", "_universal2"),
    "linux-x86_64": ("_x86_64",),
    "linux-aarch64": ("_aarch64",),
}
# What `make env` itself installs (the Makefile's ENV_STAMPS: .venv, .venv-emulator,
# .venv-samtranslator; tests/unit/test_wheelhouse.py holds the two lists together).
# The other files serve `make test`, `validate`, `deploy` and `screenshots`: a
# combination without one of them still builds the environments offline.
ENV_REQUIREMENTS = ("requirements/workshop.txt", "requirements/emulator.txt", "requirements/sam-translator.txt")
BUILD_TOOLS = "setuptools and uv"  # how a manifest names the job that downloads them
# The editable install's build backend (pyproject.toml's build-system: setuptools>=69), pinned here.
SETUPTOOLS = "setuptools==84.2.1"


def requirements_files() -> list[Path]:
    """Every requirements file an environment is built from: the Makefile's env target, the test environments."""
    return sorted((REPO / "requirements").glob("*.txt"))


def uv_pin() -> str:
    """make-venv's pinned uv (it installs it from the wheelhouse when none is on PATH): read there, written once."""
    found = re.search(r"^uv_version=(\S+)", (REPO / "scripts" / "make-venv").read_text(), re.MULTILINE)
    if not found:
        raise SystemExit("scripts/make-venv has no uv_version=... line: the wheelhouse cannot know which uv to add")
    return "uv==" + found.group(1)


def supported_pythons() -> list[str]:
    """The supported Python versions, from scripts/pick-python, the one list of them."""
    out = subprocess.run([str(REPO / "scripts" / "pick-python"), "--range"], capture_output=True, text=True, check=True)
    return out.stdout.split()


def combination(platform: str, python: str) -> str:
    """The manifest's key and the name a learner reads: "macos-arm64 3.12"."""
    return "%s %s" % (platform, python)


def make_command(platform: str, python: str) -> str:
    """The command that adds one combination to a wheelhouse."""
    return "make wheelhouse PLATFORMS=%s PYTHONS=%s" % (platform, python)


def local_platform(system: str, machine: str) -> str | None:
    """The laptop kind of a machine (platform.system(), platform.machine()), or None when no wheelhouse serves it."""
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}.get(machine.lower())
    if system == "Darwin" and arch:
        return "macos-arm64" if arch == "aarch64" else "macos-x86_64"
    if system == "Linux" and arch:
        return "linux-" + arch
    return None


def pip_args(platform: str, python: str) -> list[str]:
    """pip's options that pick the wheels of one combination, never an sdist (nothing is built on a learner's laptop)."""
    args = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
    for tag in PLATFORMS[platform]:
        args += ["--platform", tag]
    return args


def requirements_hashes() -> dict[str, str]:
    """sha256 of each requirements file, so a wheelhouse made for older pins is told apart."""
    return {str(path.relative_to(REPO)): hashlib.sha256(path.read_bytes()).hexdigest() for path in requirements_files()}


def read_manifest(folder: Path) -> dict | None:
    """The folder's MANIFEST.json, or None when it has none or one of another shape (check() then reads the tags)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        entries = manifest["combinations"].values()
        if all(isinstance(entry["files"], list) and isinstance(entry["missing"], dict) for entry in entries):
            return manifest
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return None


def _pip_failure(output: str) -> str:
    """pip's one line that says why (usually: no wheel of a pin for that Python and platform)."""
    for row in output.splitlines():
        if "Could not find a version" in row or "No matching distribution" in row:
            reason = re.sub(r" \(from versions: [^)]*\)", "", row.replace("ERROR: ", "").strip())
            return reason.replace("Could not find a version that satisfies the requirement", "no wheel of")
    return (output.strip().splitlines() or ["pip failed"])[-1]


def download_one(folder: Path, platform: str, python: str, scratch: Path) -> tuple[list[str], dict[str, str]]:
    """One combination's wheels, via `scratch` into `folder`: (the files it needs, {requirements file: why it has none}).

    A requirements file pip cannot resolve (a pin without a wheel for that
    platform and Python) is named with pip's reason, and the others are kept:
    SAM CLI's pins missing on a Mac must not cost that Mac its `make env`.
    """
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "-d", str(scratch)]
    jobs = {str(path.relative_to(REPO)): ["-r", str(path)] for path in requirements_files()}
    jobs[BUILD_TOOLS] = [SETUPTOOLS, uv_pin()]
    missing = {}
    for what, job in jobs.items():
        done = subprocess.run(pip + pip_args(platform, python) + job, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            missing[what] = _pip_failure(done.stdout + done.stderr)
    names = sorted(os.listdir(scratch))
    for name in names:
        target = folder / name
        if target.exists():
            (scratch / name).unlink()
        else:
            shutil.move(str(scratch / name), str(target))
    return names, missing


def blocks_env(missing: dict[str, str]) -> list[str]:
    """The missing requirements files without which `make env` cannot install offline."""
    return [what for what in missing if what in ENV_REQUIREMENTS or what == BUILD_TOOLS]


def folder_size(folder: Path) -> tuple[int, int]:
    """(wheels, bytes of every file) of the wheelhouse."""
    files = [path for path in folder.iterdir() if path.is_file()]
    return sum(path.suffix == ".whl" for path in files), sum(path.stat().st_size for path in files)


def write_manifest(folder: Path, hashes: dict[str, str], combinations: dict[str, dict]) -> None:
    (folder / MANIFEST).write_text(json.dumps({
        "about": "written by `make wheelhouse`; `make doctor` reads it (workshop/wheelhouse.py)",
        "requirements": hashes, "combinations": dict(sorted(combinations.items())),
    }, indent=1) + "\n")  # fmt: skip


def download(folder: Path, platforms: list[str], pythons: list[str]) -> int:
    """Every combination into `folder`, one progress line each; the manifest keeps earlier runs' combinations."""
    folder.mkdir(parents=True, exist_ok=True)
    hashes = requirements_hashes()
    manifest = read_manifest(folder)
    kept = manifest["combinations"] if manifest and manifest.get("requirements") == hashes else {}
    if manifest and not kept and manifest["combinations"]:
        print("the pins changed since %s was made: its earlier combinations are dropped from %s"
              " (their files stay; delete the folder for a clean one)" % (folder, MANIFEST))
    combos = [(platform, python) for platform in platforms for python in pythons]
    print("downloading every pinned package into %s for %d combination%s (platform, Python):"
          % (folder, len(combos), "" if len(combos) == 1 else "s"))
    for number, (platform, python) in enumerate(combos, 1):
        name = combination(platform, python)
        print("  [%d/%d] %-20s" % (number, len(combos), name), end=" ", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=".scratch-", dir=str(folder)) as scratch:
            files, missing = download_one(folder, platform, python, Path(scratch))
        kept[name] = {"files": files, "missing": missing}
        write_manifest(folder, hashes, kept)  # after each one: a run stopped half-way keeps what it finished
        print("%3d wheels, %.0f s" % (len(files), time.monotonic() - started))
        for what, reason in missing.items():
            print("      no %s: %s" % (what, reason))
    wheels, size = folder_size(folder)
    print("%s: %d wheels, %.0f MB, for %s." % (folder, wheels, size / 1e6, ", ".join(sorted(kept)) or "nothing"))
    incomplete = {name: entry["missing"] for name, entry in sorted(kept.items()) if entry["missing"]}
    for name, missing in incomplete.items():
        stopped = blocks_env(missing)
        print("%s: without %s, so %s" % (name, ", ".join(missing), "`make env` needs the network there" if stopped
              else "`make env` works offline; `make test`, `validate`, `deploy` or `screenshots` need the network there"))
    print("Copy it into each learner's clone as ./wheelhouse (or point WORKSHOP_WHEELHOUSE at it);")
    print("`make doctor` there says whether it has their laptop's combination, `make env` installs with no network.")
    # the exit code is about what this run was asked for; the lines above, about the whole folder
    return 1 if any(blocks_env(kept[combination(*combo)]["missing"]) for combo in combos) else 0


def _wheel_tags(name: str) -> tuple[str, str, list[str], list[str], list[str]] | None:
    """(project, version, python tags, abi tags, platform tags) of a wheel's file name (PEP 427), None if not one."""
    if not name.endswith(".whl"):
        return None
    parts = name[:-4].split("-")
    if len(parts) not in (5, 6):
        return None
    project = re.sub(r"[-_.]+", "-", parts[0]).lower()
    return project, parts[1], parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")


def wheel_fits(name: str, platform: str, python: str) -> bool:
    """Would a CPython `python` ("3.12") on `platform` install this wheel? Its tags, read without packaging."""
    tags = _wheel_tags(name)
    if tags is None:
        return False
    minor = int(python.split(".")[1])
    _, _, pys, abis, plats = tags

    def python_fits(py: str, abi: str) -> bool:
        if abi == "none":
            return py in ("py3", "py3%d" % minor, "cp3%d" % minor)
        if abi == "abi3":
            return py.startswith("cp3") and py[3:].isdigit() and int(py[3:]) <= minor
        return abi == py == "cp3%d" % minor

    def platform_fits(plat: str) -> bool:
        family = "macosx_" if platform.startswith("macos") else "manylinux"
        return plat == "any" or (plat.startswith(family) and plat.endswith(_ARCH_SUFFIXES[platform]))

    return any(python_fits(py, abi) for py in pys for abi in abis) and any(platform_fits(plat) for plat in plats)


def check(folder: Path, platform: str | None, python: str, machine: str) -> tuple[bool, str, str]:
    """Can `make env` on this laptop install from `folder`? (ok, what to say, the fix)."""
    if platform is None:
        return (False, "the wheelhouse %s cannot serve this machine (%s): wheelhouses are made for %s"
                % (folder, machine, ", ".join(PLATFORMS)), "move the wheelhouse folder away: `make env` then uses the package index")
    name = combination(platform, python)
    manifest = read_manifest(folder)
    add = "add it where there is network: `%s` (adds to the folder), then copy the folder here again" % make_command(platform, python)
    if manifest is None:
        return _check_tags(folder, platform, python, add)
    if name not in manifest["combinations"]:
        held = ", ".join(sorted(manifest["combinations"])) or "nothing"
        return False, "the wheelhouse %s has no packages for this laptop (%s, Python %s); it has: %s" % (folder, platform, python, held), add
    changed = sorted(path for path, digest in requirements_hashes().items() if manifest.get("requirements", {}).get(path) != digest)
    if changed:
        return (False, "the wheelhouse %s was made for other pins: %s changed since" % (folder, ", ".join(changed)),
                "make it again where there is network: `%s` (or your room's PLATFORMS and PYTHONS)" % make_command(platform, python))
    entry = manifest["combinations"][name]
    absent = [file for file in entry["files"] if not (folder / file).is_file()]
    if absent:
        return (False, "the wheelhouse %s lacks %d of its files for %s, e.g. %s: copied only in part?" % (folder, len(absent), name, absent[0]),
                "copy the whole folder again (or `%s`)" % make_command(platform, python))
    stopped = blocks_env(entry["missing"])
    if stopped:
        return (False, "the wheelhouse %s cannot build the environments for %s: %s" % (folder, name, "; ".join(
                "%s: %s" % (what, entry["missing"][what]) for what in stopped)),
                "PyPI has no wheel of it for this laptop: move the wheelhouse away and run `make env` with network, or use another Python (PYTHON=python3.X)")
    without = " (without %s: `make test`, `validate`, `deploy` or `screenshots` need the network)" % ", ".join(entry["missing"]) if entry["missing"] else ""
    return True, "environments not built yet; `make env` will install from the wheelhouse %s (%s, Python %s: no network needed)%s" % (folder, platform, python, without), ""


def _check_tags(folder: Path, platform: str, python: str, add: str) -> tuple[bool, str, str]:
    """No manifest (a wheelhouse from the older script): every project and version needs a wheel that fits here."""
    projects: dict[tuple[str, str], bool] = {}
    for name in os.listdir(folder):
        tags = _wheel_tags(name)
        if tags:
            key = tags[:2]
            projects[key] = projects.get(key, False) or wheel_fits(name, platform, python)
    unfit = sorted("%s %s" % key for key, fits in projects.items() if not fits)
    if not projects or unfit:
        named = ", ".join(unfit[:3]) + (" and %d more" % (len(unfit) - 3) if len(unfit) > 3 else "")
        return False, "the wheelhouse %s has no wheels for this laptop (%s, Python %s): %s" % (folder, platform, python, named or "no wheels at all"), add
    return True, "environments not built yet; `make env` will install from the wheelhouse %s (its wheels fit %s, Python %s)" % (folder, platform, python), ""


def _names(raw: str, known: list[str], what: str) -> list[str]:
    """A space- or comma-separated list from the command line, each one checked; empty means all."""
    names = raw.replace(",", " ").split() or list(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit("%s=%s: %s is not one of %s" % (what, raw, " ".join(unknown), " ".join(known)))
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make wheelhouse", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", default=os.environ.get("WORKSHOP_WHEELHOUSE") or str(REPO / "wheelhouse"))
    parser.add_argument("--platforms", default=os.environ.get("PLATFORMS", ""), help="default: all of " + " ".join(PLATFORMS))
    parser.add_argument("--pythons", default=os.environ.get("PYTHONS", ""), help="default: every supported Python")
    args = parser.parse_args(argv)
    platforms = _names(args.platforms, list(PLATFORMS), "PLATFORMS")
    pythons = _names(args.pythons, supported_pythons(), "PYTHONS")
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, check=False).returncode != 0:
        raise SystemExit("%s has no pip: make wheelhouse downloads with it (PYTHON=python3.X make wheelhouse picks another)" % sys.executable)
    try:
        return download(Path(args.folder).resolve(), platforms, pythons)
    except KeyboardInterrupt:
        print("\nstopped: the combinations finished so far are in %s; run it again for the rest" % MANIFEST)
        return 130


if __name__ == "__main__":
    sys.exit(main())
