"""Waiting on a condition with a deadline: the live tests' only way to wait."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

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


TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}


def finished(lam: Any, arn: str, deadline_s: float = 60.0) -> dict[str, Any]:
    """The durable execution's details once it has ended (with its input and result)."""

    def done() -> dict[str, Any] | None:
        detail = lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
        return detail if detail["Status"] in TERMINAL else None

    return wait_for(done, f"execution {arn} to end", deadline_s)


def result_of(detail: dict[str, Any]) -> dict[str, Any]:
    """The JSON result of an execution that must have SUCCEEDED."""
    assert detail["Status"] == "SUCCEEDED", detail.get("Error")
    return json.loads(detail["Result"])
