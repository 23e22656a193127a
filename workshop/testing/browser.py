"""Which Chromium drives the explorer's browser tests and `make screenshots`, and how it is launched.

Why Debian's chromium and not Playwright's download: the machines that run
these reach package registries only, so `playwright install` cannot fetch its
browser; `apt-get install -y chromium` can (.ci/run does it). Playwright for
Python comes from requirements/browser-tests.txt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    """WORKSHOP_CHROMIUM, else Debian's /usr/bin/chromium, else a chromium on PATH."""
    wanted = os.environ.get("WORKSHOP_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for candidate in CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> str | None:
    """Why no browser can be driven here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not in .venv: `make test` adds it (requirements/browser-tests.txt)"
    if chromium_path() is None:
        return "no Chromium at /usr/bin/chromium: `sudo apt-get install -y chromium` enables them (or set WORKSHOP_CHROMIUM)"
    return None


def launch_args() -> list[str]:
    # Chromium refuses to run as root with its sandbox on; CI and containers run as root.
    return ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
