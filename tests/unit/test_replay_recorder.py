"""The replay recorder, loaded the way a worker loads it, on a real durable run (the SDK's in-process test runner).

Why the real SDK: the records are only worth something if they say what the
SDK did, so these runs go through `install()` and the SDK's own plugin
discovery (DURABLE_EXECUTION_PLUGINS and the entry point), with a handler that
names no plugin, as a learner's handler does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.plugin_discovery import load_configured_plugins
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from workshop.host import replay_plugin, replay_recorder


def forget_plugins_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset DURABLE_EXECUTION_PLUGINS for this test, and have it restored after, whatever install() sets.

    monkeypatch.delenv of an unset variable records nothing to undo, so a value
    install() set would leak into every later test of this process (a handler
    decorated there would look for the recorder). setenv first records the
    original state.
    """
    monkeypatch.setenv(replay_recorder.PLUGINS_VARIABLE, "unset-by-the-test")
    monkeypatch.delenv(replay_recorder.PLUGINS_VARIABLE)


@pytest.fixture()
def records(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """install() with a sink that keeps the records; sys.path, the variable and the sink restored after."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    forget_plugins_variable(monkeypatch)
    monkeypatch.setattr(replay_recorder, "_sink", None)
    kept: list[dict[str, Any]] = []
    assert replay_recorder.install(lambda message: kept.append(message["replay"]))
    return kept


def saga_like():
    """A step, a step that fails once, a child context with a step, a wait: three invocations."""
    calls = {"charge": 0, "reserve": 0}

    def reserve(step):
        calls["reserve"] += 1
        return "r"

    def charge(step):
        calls["charge"] += 1
        if calls["charge"] == 1:
            raise RuntimeError("card declined (transient)")
        return "c"

    retry = create_retry_strategy(RetryStrategyConfig(max_attempts=3, initial_delay=Duration.from_seconds(1)))

    @durable_execution  # no plugins named: the recorder comes from DURABLE_EXECUTION_PLUGINS
    def handler(event: Any, context: DurableContext) -> str:
        context.step(reserve, name="reserve")
        context.step(charge, name="charge", config=StepConfig(retry_strategy=retry))
        context.run_in_child_context(lambda child: child.step(lambda s: "x", name="inner"), name="box")
        context.wait(Duration.from_seconds(1), name="pause")
        return "done"

    return handler, calls


def run(handler) -> Any:
    with DurableFunctionTestRunner(handler=handler) as runner:
        return runner.run(input="{}", execution_timeout=30)


def by_name(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["name"]: op for op in record["operations"]}


def test_install_names_only_the_recorder_and_the_sdk_resolves_it(records) -> None:
    assert os.environ[replay_recorder.PLUGINS_VARIABLE] == replay_recorder.PLUGIN_NAME
    assert load_configured_plugins(None) == [replay_recorder.FACTORY]


def test_install_keeps_the_functions_own_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(replay_recorder, "_sink", None)
    monkeypatch.setenv(replay_recorder.PLUGINS_VARIABLE, "theirs")
    assert replay_recorder.install(lambda message: None)
    assert os.environ[replay_recorder.PLUGINS_VARIABLE] == f"theirs,{replay_recorder.PLUGIN_NAME}"


@pytest.mark.parametrize("problem", ["missing", "provided twice"])
def test_install_stands_back_when_the_sdk_would_reject_the_name(
    problem: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A named plugin the SDK cannot load fails the decorator, so the user's handler: install must not name it."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(replay_recorder, "_sink", None)
    forget_plugins_variable(monkeypatch)
    if problem == "missing":
        monkeypatch.setattr(replay_recorder, "PLUGIN_DIST", tmp_path / "nothing-here")
    else:
        twin = tmp_path / "twin-1.0.dist-info"
        twin.mkdir()
        (twin / "METADATA").write_text("Metadata-Version: 2.1\nName: twin\nVersion: 1.0\n")
        (twin / "entry_points.txt").write_text(
            f"[{replay_recorder.ENTRY_POINT_GROUP}]\n{replay_recorder.PLUGIN_NAME} = twin:FACTORY\n"
        )
        sys.path.append(str(tmp_path))
    monkeypatch.setattr(sys, "__stderr__", sys.stderr)  # the host's log, captured here
    assert replay_recorder.install(lambda message: None) is False
    assert replay_recorder.PLUGINS_VARIABLE not in os.environ
    assert "not loaded" in capsys.readouterr().err
    handler, _ = saga_like()  # decorating still works: the handler imports
    assert run(handler).status is InvocationStatus.SUCCEEDED


def test_records_say_what_each_invocation_replayed_ran_and_ended_on(records) -> None:
    handler, calls = saga_like()
    assert run(handler).status is InvocationStatus.SUCCEEDED
    assert calls == {"reserve": 1, "charge": 2}  # the SDK's own view: reserve's function ran once
    one, two, three = records

    assert one["first_invocation"] is True and one["status"] == "PENDING"
    ops = by_name(one)
    assert ops["reserve"] | {"ran": True, "is_replayed": False, "status": "SUCCEEDED", "attempt": 1} == ops["reserve"]
    assert (ops["charge"]["ran"], ops["charge"]["status"], ops["charge"]["attempt"]) == (True, "PENDING", 1)
    assert one["suspended_on"] == [ops["charge"]["id"]]

    ops = by_name(two)
    assert two["first_invocation"] is False and two["status"] == "PENDING"
    assert (ops["reserve"]["is_replayed"], ops["reserve"]["ran"], ops["reserve"]["status_at_start"]) == (True, False, "SUCCEEDED")
    assert (ops["charge"]["is_replayed"], ops["charge"]["ran"], ops["charge"]["attempt"], ops["charge"]["status"]) == (True, True, 2, "SUCCEEDED")
    assert ops["inner"]["parent_id"] == ops["box"]["id"] and ops["box"]["type"] == "CONTEXT"
    assert all(ops[name]["ran"] for name in ("box", "inner", "pause"))
    assert two["suspended_on"] == [ops["pause"]["id"]]

    ops = by_name(three)
    assert three["status"] == "SUCCEEDED" and three["suspended_on"] == [] and three["error"] is None
    assert not any(op["ran"] for op in three["operations"])
    assert all(op["is_replayed"] and op["status_at_start"] == "SUCCEEDED" for op in three["operations"])
    assert set(ops) == {"reserve", "charge", "box", "inner", "pause"}


def test_records_carry_ids_and_statuses_never_results(records) -> None:
    @durable_execution
    def handler(event: Any, context: DurableContext) -> str:
        context.step(lambda step: "secret-result-" + "x" * 1000, name="big")
        return "done"

    run(handler)
    (record,) = records
    assert "secret-result" not in repr(record)


def test_records_are_bounded(records, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay_plugin, "MAX_OPERATIONS", 3)

    @durable_execution
    def handler(event: Any, context: DurableContext) -> str:
        for n in range(5):
            context.step(lambda step: n, name=f"s{n}")
        context.wait(Duration.from_seconds(1), name="pause")
        return "done"

    run(handler)
    first, second = records
    assert (len(first["operations"]), first["omitted"]) == (3, 3)
    # Kept first: what the invocation waits on, then what it ran.
    assert [op["name"] for op in first["operations"]] == ["pause", "s0", "s1"]
    assert first["suspended_on"] == [first["operations"][0]["id"]]
    assert (len(second["operations"]), second["omitted"]) == (3, 3)


def test_a_failing_sink_does_not_fail_the_execution(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    forget_plugins_variable(monkeypatch)
    monkeypatch.setattr(replay_recorder, "_sink", None)
    monkeypatch.setattr(sys, "__stderr__", sys.stderr)

    def broken(message: dict[str, Any]) -> None:
        raise OSError("pipe closed")

    assert replay_recorder.install(broken)
    handler, _ = saga_like()
    assert run(handler).status is InvocationStatus.SUCCEEDED
    assert "could not report" in capsys.readouterr().err
