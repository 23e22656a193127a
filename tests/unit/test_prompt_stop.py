"""workshop.host.prompt_stop: an invocation's checkpoint thread ends when told to, not at its next poll."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from aws_durable_execution_sdk_python import state

from workshop.host import prompt_stop

JOIN_DEADLINE_S = 30.0  # a deadline, not a speed limit: unpatched, the thread would block for the hour below


def _idle_state() -> state.ExecutionState:
    """An ExecutionState with nothing to checkpoint: its collector blocks on the empty queue."""
    return state.ExecutionState("arn:test", "token", {}, service_client=None, plugin_executor=None)  # type: ignore[arg-type]


def test_stop_wakes_the_idle_checkpoint_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "_STOP_SIGNAL_POLL_SECONDS", 3600.0)  # the SDK's poll, made long enough to see
    monkeypatch.setattr(state.ExecutionState, "stop_checkpointing", state.ExecutionState.stop_checkpointing)  # undone after
    assert prompt_stop.install()
    execution = _idle_state()
    collector = threading.Thread(target=execution.checkpoint_batches_forever, daemon=True)
    collector.start()
    execution.stop_checkpointing()
    collector.join(JOIN_DEADLINE_S)
    assert not collector.is_alive(), "the checkpoint thread kept waiting out its poll after stop_checkpointing()"


def test_installing_twice_wraps_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state.ExecutionState, "stop_checkpointing", state.ExecutionState.stop_checkpointing)
    assert prompt_stop.install() and prompt_stop.install()
    signals: list[Any] = []
    execution = _idle_state()
    execution._checkpoint_queue.put = signals.append  # type: ignore[method-assign]
    execution.stop_checkpointing()
    assert signals == [state._Signal.REFRESH_WAKE]
