"""`make screenshots`: docs/explorer-grid.png, the explorer's replay grid of the saga's compensating path.

Why a script and not a picture taken by hand: the README's screenshot must show
what the explorer draws now, so anyone can make it again in a minute. It runs
a private stack (free ports, a temporary state folder, stopped by pid), places
the order the warehouse rejects, opens its execution in Debian's Chromium
through Playwright (requirements/browser-tests.txt), clicks the callback's cell
in the invocation its rejection woke, and saves the page.
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from workshop import stack
from workshop.config import REPO_ROOT, boto3_client
from workshop.inspect import TERMINAL
from workshop.tools.demo import place_order
from workshop.testing.browser import chromium_path, launch_args, unavailable

OUTPUT = REPO_ROOT / "docs" / "explorer-grid.png"
DEADLINE_S = 120.0


def compensating_order(lam, name: str) -> str:
    """The demo's compensating order (the warehouse rejects), run to its end."""
    arn = place_order(lam, {"warehouse": "reject"}, execution_name=name, id_prefix="shot")
    deadline = time.monotonic() + DEADLINE_S
    while lam.get_durable_execution(DurableExecutionArn=arn)["Status"] not in TERMINAL:
        if time.monotonic() > deadline:
            raise SystemExit(f"the saga did not end within {DEADLINE_S:.0f} s: {arn}")
        time.sleep(0.2)
    return arn


def main() -> int:
    reason = unavailable()
    if reason:
        print(f"make screenshots needs a browser: {reason}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="workshop-screenshots-") as state:
        config = stack.private_config(Path(state))
        stack.up(config, say=lambda line: None)
        try:
            arn = compensating_order(boto3_client("lambda", config), "order-compensating-path")
            address = f"http://127.0.0.1:{config.explorer_port}/execution?{urllib.parse.urlencode({'arn': arn})}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=launch_args())
                page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
                page.goto(address)
                # the invocation the warehouse's rejection woke: the callback is replayed with its error
                cell = page.locator("#grid tr[data-name='warehouse-confirmation'] td[data-invocation='3']")
                cell.locator("a").click()
                page.locator("#panel h2").wait_for()
                OUTPUT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(OUTPUT), full_page=True)
                browser.close()
        finally:
            stack.down(config, say=lambda line: None)
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
