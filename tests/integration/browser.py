"""A real browser for the explorer's tests: Playwright driving Debian's Chromium.

Why Debian's chromium and not Playwright's download: the machines that run
these tests reach package registries only, so `playwright install` cannot
fetch its browser; `apt-get install -y chromium` can (.ci/run does it).

Where there is no Chromium (or no Playwright), the tests are skipped with one
line that says how to enable them, except under CI=true, where a missing
browser is a failure: CI must never pass by running no browser test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SKIP_PREFIX = "browser tests skipped"
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
    """Why no browser test can run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not in .venv: `make test` adds it (requirements/browser-tests.txt)"
    if chromium_path() is None:
        return "no Chromium at /usr/bin/chromium: `sudo apt-get install -y chromium` enables them (or set WORKSHOP_CHROMIUM)"
    return None


def require_browser() -> None:
    """Call at a browser test module's top: skip it (one line) or, under CI=true, fail it."""
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(f"CI=true needs the browser tests, and {reason}")
    pytest.skip(f"{SKIP_PREFIX}: {reason}", allow_module_level=True)


def launch_args() -> list[str]:
    # Chromium refuses to run as root with its sandbox on; CI and containers run as root.
    return ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def browser_session() -> Iterator[Any]:
    """One Chromium for a test module, closed after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=launch_args())
        try:
            yield browser
        finally:
            browser.close()
