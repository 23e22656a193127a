"""A real browser for the explorer's tests: Playwright driving Debian's Chromium (workshop.testing.browser).

Where there is no Chromium (or no Playwright), a browser test module is
skipped with one line that says how to enable it (printed once at the end of
the run, tests/integration/conftest.py), except under CI=true, where a missing
browser is a failure: CI must never pass by running no browser test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from workshop.testing.browser import chromium_path, launch_args, unavailable

SKIP_PREFIX = "browser tests skipped"


def require_browser() -> None:
    """Call at a browser test module's top: skip it (one line) or, under CI=true, fail it."""
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(f"CI=true needs the browser tests, and {reason}")
    pytest.skip(f"{SKIP_PREFIX}: {reason}", allow_module_level=True)


def browser_session() -> Iterator[Any]:
    """One Chromium for a test module, closed after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=launch_args())
        try:
            yield browser
        finally:
            browser.close()
