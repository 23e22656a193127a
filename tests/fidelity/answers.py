"""The test's side of a callback: find the callback the execution waits on, then answer it.

The same steps for both runners: each side gives a `Callbacks` (its history,
heartbeat and success calls) and `answer` waits on the history, with a
deadline, until a callback has started and not ended, then sends the case's
answers to it in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from tests.fidelity.cases import Answer
from tests.integration.polling import wait_for

CALLBACK_ENDS = frozenset({"CallbackSucceeded", "CallbackFailed", "CallbackTimedOut"})


class Callbacks(Protocol):
    def history(self, arn: str) -> list[Mapping[str, Any]]: ...
    def heartbeat(self, callback_id: str) -> None: ...
    def succeed(self, callback_id: str, result: bytes) -> None: ...


def open_callback(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The id of the first callback that started and has not ended, if any."""
    ended = {event.get("Id") for event in events if event["EventType"] in CALLBACK_ENDS}
    for event in events:
        if event["EventType"] == "CallbackStarted" and event.get("Id") not in ended:
            return event["CallbackStartedDetails"]["CallbackId"]
    return None


def answer(callbacks: Callbacks, arn: str, answers: Sequence[Answer], deadline_s: float = 20.0) -> None:
    if not answers:
        return
    callback_id = wait_for(lambda: open_callback(callbacks.history(arn)), f"a callback to start in {arn}", deadline_s, interval=0.05)
    for step in answers:
        if step.action == "heartbeat":
            callbacks.heartbeat(callback_id)
        else:
            callbacks.succeed(callback_id, (step.result or "").encode())
