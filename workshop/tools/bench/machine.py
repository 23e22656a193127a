"""The machine and the commit a run measured: the facts printed above the table and kept in the JSON."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime

from workshop import system
from workshop.config import REPO_ROOT


def machine() -> dict[str, str]:
    """The facts psutil and platform can tell on every system (no CPU model name: only Linux's procfs has it)."""
    clock = system.cpu_clock_ghz()
    ram = system.memory_total_bytes()
    return {
        "CPU": (platform.processor() or platform.machine()) + (f", {clock:.1f} GHz" if clock else ""),
        "cores": str(os.cpu_count()),
        "RAM": f"{ram / 1024**3:.1f} GiB" if ram else "",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def head_commit() -> str:
    """The full sha of HEAD the figures were measured at ("?" outside a git checkout)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    return head or "?"
