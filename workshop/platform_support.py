"""Which systems the workshop runs on, said once, before anything needs POSIX.

The stack locks its files with fcntl (workshop/stack/processes.py,
workshop/registry.py), which native Windows does not have: without this
guard every command died on import with a traceback that named fcntl, not
Windows, and not what to do. workshop/__init__.py calls require_posix(), so
every `python -m workshop...` entry point passes here before fcntl is
imported, and scripts/doctor.py (which imports this module too) says the
same. Standard library only, and free of syntax newer than Python 3.6:
doctor imports it with whatever python3 a laptop has, before any
environment exists.
"""

import os
import platform
import sys

SUPPORTED = "macOS, Linux, or Windows through WSL2"

# One message for native Windows: where the workshop does run, and the
# commands that get there. Lines stay under 80 columns for a narrow terminal.
WINDOWS_HELP = """\
The workshop does not run on native Windows: the local stack needs POSIX
file locks (fcntl), which this Python does not have. Run it in WSL2:
  1. in PowerShell, run as administrator:   wsl --install -d Ubuntu
     then restart Windows and open "Ubuntu" from the Start menu
  2. in Ubuntu:  sudo apt-get update
                 sudo apt-get install -y git make python3-venv
  3. clone in your WSL home (cd ~), not under /mnt/c, then: make doctor
Or use the dev container (.devcontainer/): in VS Code, "Dev Containers:
Reopen in Container", or open the repository in a GitHub Codespace."""

OTHER_HELP = """\
This Python has no fcntl module (POSIX file locks), which the local stack
needs: the workshop runs on %s. Use one of those,
or the dev container (.devcontainer/: VS Code "Dev Containers: Reopen in
Container", or a GitHub Codespace).""" % SUPPORTED


def kernel_release() -> str:
    """The kernel's release, from uname(2) (no procfs read): WSL's names Microsoft, e.g. 5.15.167.4-microsoft-standard-WSL2."""
    return platform.release()


def is_wsl() -> bool:
    """Linux under WSL: WSL sets WSL_DISTRO_NAME, and its kernel's release names Microsoft."""
    return bool(os.environ.get("WSL_DISTRO_NAME")) or "microsoft" in kernel_release().lower()


def os_name() -> str:
    """The system as a learner would name it: macOS, Linux, WSL, Windows, or what Python calls it."""
    if sys.platform == "darwin":
        return "macOS"
    if sys.platform.startswith("linux"):
        return "WSL" if is_wsl() else "Linux"
    if sys.platform in ("win32", "cygwin", "msys"):
        return "Windows"
    return sys.platform


def posix_problem() -> "str | None":
    """Why the workshop cannot run on this Python (the message to print), or None when it can."""
    try:
        import fcntl  # noqa: F401 - only whether it imports matters
    except ImportError:
        return WINDOWS_HELP if os_name() == "Windows" else OTHER_HELP
    return None


def require_posix() -> None:
    """Exit with the one message (SystemExit prints it to stderr, exit code 1, no traceback)."""
    problem = posix_problem()
    if problem:
        raise SystemExit(problem)
