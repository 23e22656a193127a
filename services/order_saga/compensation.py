"""The saga's undo stack: compensations run in reverse order of the steps they undo.

Each successful step that changed something pushes its compensation; when a
later step fails, ``unwind`` runs them last-in first-out (refund before
release). Every compensation is a named durable operation of its own
(``refund-payment``, ``release-inventory``), so on replay a finished one
returns its stored result instead of running again, and one that fails is
retried on its own schedule. ``unwind`` returns the names in the order they
ran: that list is the ``compensations`` field of the saga's result.

Pushing and unwinding are plain Python, re-done identically on every replay;
only the compensations themselves are checkpointed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Compensations:
    def __init__(self) -> None:
        self._stack: list[tuple[str, Callable[[], Any]]] = []

    def push(self, name: str, undo: Callable[[], Any]) -> None:
        """Register how to undo the step that just succeeded."""
        self._stack.append((name, undo))

    def unwind(self) -> list[str]:
        """Run every registered compensation, newest first; return their names in that order."""
        ran: list[str] = []
        while self._stack:
            name, undo = self._stack.pop()
            undo()
            ran.append(name)
        return ran
