"""make doctor: what a learner's machine needs for the workshop, checked the day before.

Standard library only, and written for any Python 3 (even one the workshop
does not support), because it runs before any environment exists. Each line
says ✓ or ✗ and, for ✗, the fix; the exit code is 1 when any line is ✗, so an
instructor can ask a room to run it and look at one number.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIN_FREE_GB = 2.0  # the environments (~1.1 GB) and a day of state, with room to spare
PORTS = (  # (environment variable, default, what listens there, its pid file in .workshop/pids)
    ("WORKSHOP_EMULATOR_PORT", 4566, "the AWS emulator", "emulator"),
    ("WORKSHOP_RUNNER_PORT", 9014, "the durable runner", "runner"),
    ("WORKSHOP_HOST_PORT", 3001, "the function host (Lambda endpoint)", "function-host"),
    ("WORKSHOP_XRAY_PORT", 2000, "the X-Ray sink", "xray-sink"),
    ("WORKSHOP_EXPLORER_PORT", 3002, "the Durable Explorer", "explorer"),
)
ENVIRONMENTS = (".venv", ".venv-emulator", ".venv-samtranslator")

results = []


def line(ok, what, fix=""):
    results.append(ok)
    mark = "\u2713" if ok else "\u2717"
    print("  %s %s%s" % (mark, what, "" if ok or not fix else "\n      fix: " + fix))


def check_python():
    """The Python `make env` builds with: (its path, "3.12", platform.system(), platform.machine()), or None."""
    picked = subprocess.run([os.path.join(REPO, "scripts", "pick-python")], capture_output=True, text=True,
                            env=os.environ).stdout.strip() or "python3"
    checked = subprocess.run([os.path.join(REPO, "scripts", "pick-python"), "--check", picked],
                             capture_output=True, text=True)
    if checked.returncode != 0:
        line(False, "Python: " + checked.stderr.strip(), "install Python 3.11 to 3.14 (python.org, your package manager or pyenv)")
        return None
    about = subprocess.run([picked, "-c", "import sys, platform; print(sys.version.split()[0], platform.system(), platform.machine())"],
                           capture_output=True, text=True).stdout.split()
    version = about[0] if about else "?"
    line(True, "Python %s (%s), the one `make env` builds with" % (version, picked))
    venv = subprocess.run([picked, "-c", "import ensurepip, venv"], capture_output=True, text=True)
    line(venv.returncode == 0, "%s can create virtual environments (venv, ensurepip)" % picked,
         "on Debian/Ubuntu: sudo apt-get install python3-venv (or python%s-venv)" % version.rsplit(".", 1)[0])
    return (picked, ".".join(version.split(".")[:2]), *about[1:3]) if len(about) == 3 else None


def check_make():
    line(shutil.which("make") is not None, "make is installed", "on Debian/Ubuntu: sudo apt-get install make; on macOS: xcode-select --install")


def check_loopback():
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            probe.listen(1)
        line(True, "a server can listen on 127.0.0.1 (loopback)")
    except OSError as exc:
        line(False, "cannot listen on 127.0.0.1: %s" % exc, "a firewall or sandbox blocks loopback servers: allow them for this folder")


def state_dir():
    """Where the stack keeps its pid files: WORKSHOP_STATE_DIR when set, as workshop/config.py reads it, else .workshop.

    A stack started under a folder of its own (a second stack, a test's, CI's)
    is found only when doctor runs with the same variables.
    """
    return os.path.abspath(os.environ.get("WORKSHOP_STATE_DIR") or os.path.join(REPO, ".workshop"))


def _recorded_pid(service):
    """The pid in the state folder's pid file for `service` (workshop/stack/services.py), if that process is alive."""
    try:
        with open(os.path.join(state_dir(), "pids", service + ".pid")) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):  # no file, not a number, gone, or another user's process: not this stack's
        return None
    return pid


def _listens_by_psutil(pid, port):
    """Does `pid` hold a socket listening on `port`? Asked of psutil (workshop/system.py) in the workshop's
    environment, which exists whenever its stack runs; None where that cannot say (no environment yet,
    or psutil sees no processes, as on Linux with procfs hidden)."""
    python = os.path.join(REPO, ".venv", "bin", "python")
    if not os.path.exists(python):
        return None
    code = ("import sys; from workshop import system; found = system.listening_sockets(int(sys.argv[1]));"
            " print('unknown' if found is None else ' '.join(str(holder) for holder, _fd in found))")
    try:
        asked = subprocess.run([python, "-c", code, str(port)], capture_output=True, text=True, timeout=20, cwd=REPO)
    except (OSError, subprocess.SubprocessError):
        return None
    answer = asked.stdout.strip()
    if asked.returncode != 0 or answer == "unknown":
        return None
    return str(pid) in answer.split()


def _listeners_by_lsof(port):
    """The pids lsof sees listening on TCP `port` (macOS has no /proc); None without lsof or an answer from it."""
    lsof = shutil.which("lsof")
    if not lsof:
        return None
    try:
        found = subprocess.run([lsof, "-nP", "-iTCP:%d" % port, "-sTCP:LISTEN", "-Fp"],
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    pids = {int(row[1:]) for row in found.stdout.split() if row.startswith("p") and row[1:].isdigit()}
    return pids or None  # nothing seen: another user's process lsof may not show, so no answer


def port_holder(service, port):
    """Who holds a port that is in use: ("stack", pid), ("other", pids or None) or ("unsure", pid).

    "stack" only when the pid recorded in the state folder is alive and is
    the process listening; "unsure" when that process is alive but neither
    psutil nor lsof can tell who listens (doctor says so: a guess).
    """
    pid = _recorded_pid(service)
    if pid is None:
        return "other", _listeners_by_lsof(port)
    ours = _listens_by_psutil(pid, port)
    if ours is None:
        listeners = _listeners_by_lsof(port)
        ours = None if listeners is None else pid in listeners
        if ours is False:
            return "other", listeners
    if ours is None:
        return "unsure", pid
    return ("stack", pid) if ours else ("other", None)


def check_ports():
    for variable, default, what, service in PORTS:
        raw = os.environ.get(variable, str(default))
        try:
            port = int(raw)
        except ValueError:
            line(False, "%s=%r is not a port number" % (variable, raw), "unset it or give a number from 1 to 65535")
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", port))
            line(True, "port %d is free (%s)" % (port, what))
            continue
        except OSError:
            pass
        holder, pids = port_holder(service, port)
        if holder == "stack":
            line(True, "port %d is in use by this workshop's stack: %s, pid %d (`make status`; `make down` frees it)"
                 % (port, what, pids))
        elif holder == "unsure":
            line(True, "port %d is in use (could not tell by which process): most likely by this workshop's %s,"
                 " whose pid %d is running (`make status`; `make down` frees it)" % (port, what, pids))
        else:
            line(False, "port %d is in use by another program (%s)%s"
                 % (port, what, ": pid %s" % ", ".join(map(str, sorted(pids))) if pids else ""),
                 "stop that program, or choose another port: export %s=%d (a stack of this workshop started"
                 " with another WORKSHOP_STATE_DIR or ports: run doctor with the same variables)" % (variable, port + 100))


def check_disk():
    free_gb = shutil.disk_usage(REPO).free / 1e9
    line(free_gb >= MIN_FREE_GB, "%.1f GB free where the repository is (needs %.0f GB)" % (free_gb, MIN_FREE_GB),
         "free some space, or clone the repository on a disk with more")
    try:
        with tempfile.NamedTemporaryFile(dir=REPO, prefix=".doctor-"):
            pass
        line(True, "the repository folder is writable")
    except OSError as exc:
        line(False, "cannot write in %s: %s" % (REPO, exc), "clone the repository somewhere you own")


def check_packages(python):
    """Built environments, else a wheelhouse that fits this laptop (workshop/wheelhouse.py), else the package index."""
    ready = [name for name in ENVIRONMENTS if os.path.exists(os.path.join(REPO, name, ".installed"))]
    if len(ready) == len(ENVIRONMENTS):
        line(True, "the environments are built (%s)" % ", ".join(ready))
        return
    wheelhouse = os.environ.get("WORKSHOP_WHEELHOUSE") or os.path.join(REPO, "wheelhouse")
    if os.path.isdir(wheelhouse) and os.listdir(wheelhouse):  # scripts/make-venv then installs from it alone
        if python is None:
            print("  - the wheelhouse %s is checked once the Python above is fixed" % wheelhouse)
            return
        from workshop import wheelhouse as wheels  # standard library only
        _, version, system, machine = python
        ok, what, fix = wheels.check(pathlib.Path(wheelhouse), wheels.local_platform(system, machine), version,
                                     "%s %s" % (system, machine))
        line(ok, what, fix)
        return
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")
    try:
        with urllib.request.urlopen(index.rstrip("/") + "/pip/", timeout=5) as reply:
            ok = reply.status == 200
    except Exception as exc:  # noqa: BLE001 - any failure means: no packages from there
        ok, index = False, "%s (%s)" % (index, exc)
    line(ok, "environments not built yet; the package index %s answers, so `make env` can build them" % index
         if ok else "environments not built yet, and the package index %s cannot be reached" % index,
         "run `make env` where there is network, or copy a wheelhouse (`make wheelhouse`, docs/INSTRUCTOR.md)")


def check_system(platform_support):
    """The system by name, with what the workshop supports: a Windows or WSL question is settled on line one."""
    name = platform_support.os_name()
    if name in ("macOS", "Linux"):
        line(True, "%s, supported (the workshop runs on %s)" % (name, platform_support.SUPPORTED))
    elif name == "WSL":
        line(True, "WSL (Linux on Windows), supported")
        outside = REPO.startswith("/mnt/")
        line(not outside, "the repository is inside WSL's own file system (%s)" % REPO,
             "clone it in your WSL home instead of on the Windows drive (/mnt/...), where files are"
             " slow and saves from Windows editors may go unseen: cd ~ && git clone <the repository URL>")
    else:  # a system with fcntl the workshop was never tried on (native Windows stops in platform_support)
        line(False, "%s: not a system the workshop supports (%s)" % (name, platform_support.SUPPORTED),
             "use one of those, or the dev container (.devcontainer/)")


def main():
    # Native Windows (no fcntl) stops here with the one message workshop/__init__.py prints for every command.
    sys.path.insert(0, REPO)
    from workshop import platform_support  # standard library only
    print("make doctor: can this machine run the workshop?")
    check_system(platform_support)
    python = check_python()
    check_make()
    check_loopback()
    check_ports()
    check_disk()
    check_packages(python)
    docker = shutil.which("docker")
    print("  - Docker: %s (optional: only `docker compose up` needs it)" % ("found" if docker else "not found"))
    failed = results.count(False)
    print("all %d checks passed" % len(results) if not failed else "%d of %d checks failed: fix them before the session" % (failed, len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
