"""The stack's RSS after the run and a minute later, each beside its idle RSS measured at start."""

from __future__ import annotations

import time

from workshop.config import StackConfig
from workshop.tools.bench.report import Report, _say
from workshop.tools.measure import stack_rss_mb

SETTLE_S = 60.0


def bench_rss(config: StackConfig, report: Report, idle_mb: float) -> None:
    """The stack's RSS right after the last workload (warm workers kept), and SETTLE_S later.

    The host retires workers that stay idle; how soon is its business (the
    bench waits a fixed minute and reports what is left, whatever the setting).
    """
    after = sum(stack_rss_mb(config).values())
    report.add("stack RSS after the run (warm workers kept)", f"{after:.0f} MB", f"{idle_mb:.0f} MB idle", f"{after / idle_mb:.1f}x")
    _say(f"waiting {SETTLE_S:.0f} s with the stack idle...")
    time.sleep(SETTLE_S)
    settled = sum(stack_rss_mb(config).values())
    report.add(f"stack RSS {SETTLE_S:.0f} s after the run (the host retires idle workers)", f"{settled:.0f} MB", f"{idle_mb:.0f} MB idle", f"{settled / idle_mb:.1f}x")
    report.figure("rss_after_mb", after)
    report.figure("rss_after_60s_mb", settled)
