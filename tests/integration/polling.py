"""Waiting on a condition with a deadline: the live tests' only way to wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], what: str, deadline_s: float = 60.0, interval: float = 0.1) -> T:
    """Poll until predicate() returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {deadline_s:.0f} s waiting for {what}")
