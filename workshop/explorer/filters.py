"""Template filters: times, durations and identifiers as the pages show them.

Why filters and not pre-formatted strings: the backend hands the templates
data (epoch seconds, milliseconds, ARNs), so tests can compare values, and
each page formats them the same way. Every filter returns plain text; the
templates' autoescape escapes it.
"""

from __future__ import annotations

import time
from typing import Any


def clock(epoch: float | None) -> str:
    """Local wall-clock time, with the date when it is not today."""
    if epoch is None:
        return "—"
    moment = time.localtime(epoch)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%Y-%m-%d %H:%M:%S", moment)


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def millis(value: float | None) -> str:
    return "—" if value is None else seconds(value / 1000)


def short(value: Any, keep: int = 8) -> str:
    """The start of a long id (request ids, operation ids); the page keeps the whole one in a title."""
    text = "" if value is None else str(value)
    return text if len(text) <= keep + 1 else text[:keep] + "…"


FILTERS = {"clock": clock, "seconds": seconds, "millis": millis, "short": short}
