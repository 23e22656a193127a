"""Small text pieces every view draws: a status in its colour, a clock time, a duration, a shortened line.

Why a module of its own: the timeline (workshop.render.timeline), the CLI's
tables and its trace trees all write times and statuses the same way.
"""

from __future__ import annotations

import datetime as _dt

from rich.text import Text

STATUS_STYLES = {
    "SUCCEEDED": "bold green",
    "FAILED": "bold red",
    "TIMED_OUT": "bold red",
    "STOPPED": "bold yellow",
    "RUNNING": "bold cyan",
    "PENDING": "bold cyan",
}


def status_text(status: str | None) -> Text:
    status = status or "?"
    return Text(status, style=STATUS_STYLES.get(status, "bold"))


def clock(ts: float | None, with_date: bool = False) -> str:
    """Local wall-clock time; milliseconds matter when invocations are 100 ms apart."""
    if ts is None:
        return "-"
    moment = _dt.datetime.fromtimestamp(ts)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if with_date else moment.strftime("%H:%M:%S.%f")[:-3]


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def short(text: str | None, limit: int = 100) -> str:
    if text is None:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
