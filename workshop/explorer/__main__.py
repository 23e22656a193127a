"""`make explorer`: the explorer's URL, checked to answer, opened in a browser where there is one.

Why the check for a display: Python's webbrowser falls back to text browsers
(lynx, w3m) in a terminal without one, which would take over the learner's
terminal; a machine with no display (CI, ssh, a container) only gets the URL.
"""

from __future__ import annotations

import os
import sys
import urllib.request
import webbrowser

from workshop.config import StackConfig
from workshop.explorer import browser_url


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def has_display() -> bool:
    if os.environ.get("CI") or os.environ.get("WORKSHOP_NO_BROWSER"):
        return False
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main() -> int:
    config = StackConfig()
    url = browser_url(config)
    if not answers(url):
        print(f"The explorer does not answer at {url} — start the stack with `make up`.", file=sys.stderr)
        return 1
    print(f"Durable Explorer: {url}")
    if has_display():
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
