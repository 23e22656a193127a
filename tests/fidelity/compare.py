"""Two normalised histories compared, with a diff a person can read when they differ."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

import pytest


def joined(executions: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Normalised histories of an execution and its chained children as one: a child's operations under "chained[N]:"."""
    return [{**event, "op": f"chained[{index}]:{event['op']}"} if index else dict(event) for index, history in enumerate(executions) for event in history]


def lines(history: Sequence[dict[str, Any]]) -> list[str]:
    """One line per compared event: its operation and event type first, then the details."""
    return [json.dumps(event, default=str) for event in history]


def history_diff(expected: Sequence[dict[str, Any]], actual: Sequence[dict[str, Any]], expected_label: str, actual_label: str) -> str:
    """A unified diff of the two histories, line per event; empty when they agree."""
    return "\n".join(difflib.unified_diff(lines(expected), lines(actual), expected_label, actual_label, n=2, lineterm=""))


def assert_same_history(expected: Sequence[dict[str, Any]], actual: Sequence[dict[str, Any]], expected_label: str = "in-process", actual_label: str = "live") -> None:
    """Fail with the diff when the histories differ (and say so when one of them is empty)."""
    assert expected, f"the {expected_label} history has no events: nothing to compare"
    diff = history_diff(expected, actual, expected_label, actual_label)
    if diff:
        pytest.fail(f"the {actual_label} history differs from the {expected_label} one (- {expected_label}, + {actual_label}):\n{diff}", pytrace=False)
