"""WORKSHOP_TIME_SCALE: the runner's clock and every timer run N times faster; 1 changes nothing.

A real WebRunner (started, never serving: no port is listened on by the test,
no handler is invoked) is scaled in-process; timers are observed through the
Scheduler with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aws_durable_execution_sdk_python_testing.clock import RealClock
from aws_durable_execution_sdk_python_testing.runner import WebRunner, WebRunnerConfig
from aws_durable_execution_sdk_python_testing.stores.base import StoreType
from aws_durable_execution_sdk_python_testing.web.server import WebServiceConfig

from workshop.runner import timescale as ts
from workshop.runner.internals import check_internals as recovery_check


def web_runner(store_path: Path | None) -> WebRunner:
    config = WebRunnerConfig(
        web_service=WebServiceConfig(host="127.0.0.1", port=0),
        lambda_endpoint="http://127.0.0.1:9",
        local_runner_region="us-east-1",
        store_type=StoreType.SQLITE if store_path else StoreType.MEMORY,
        store_path=str(store_path) if store_path else None,
    )
    return WebRunner(config)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[WebRunner]:
    with web_runner(tmp_path / "executions.db") as started:
        yield started


def test_scale_one_without_an_anchor_changes_nothing(runner: WebRunner, tmp_path: Path) -> None:
    original = runner._executor._invoke_execution
    assert ts.install_time_scale(runner, "sqlite", str(tmp_path / "executions.db"), False, environ={}, record_at_exit=False) is None
    assert isinstance(runner._executor._clock, RealClock)
    assert "call_later" not in vars(runner._scheduler)
    assert runner._executor._invoke_execution == original


def test_the_clock_and_every_timer_run_faster(runner: WebRunner, tmp_path: Path) -> None:
    scaled = ts.install_time_scale(runner, "sqlite", str(tmp_path / "executions.db"), False, environ={ts.ENV_VAR: "3600"}, record_at_exit=False)
    assert scaled is not None
    executor = runner._executor
    assert executor._clock is scaled.clock is executor._checkpoint_processor._clock is runner._clock
    recovery_check(runner)  # the recovery module still finds what it needs

    # now(): one real second is an hour.
    real0, model0 = time.monotonic(), executor._clock.now()
    fired = threading.Event()
    # A one-hour timer (a callback timeout, say) fires after about one real second.
    runner._scheduler.call_later(fired.set, delay=3600)
    assert fired.wait(10), "the scaled timer never fired"
    real_elapsed = time.monotonic() - real0
    model_elapsed = (executor._clock.now() - model0).total_seconds()
    assert 0.9 <= real_elapsed < 5
    assert model_elapsed >= 3600 * 0.9
    # arm() answers in modelled seconds; the scaled call_later divides them.
    assert executor._clock.arm(executor._clock.now() + timedelta(days=3)) == pytest.approx(259200, abs=3600)


def test_the_invocation_retry_backoff_stays_real(runner: WebRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float] = []
    original = runner._scheduler.call_later

    def spy(func, delay=0, count=1, completion_event=None):
        seen.append(delay)
        return original(lambda: None, delay=0)

    monkeypatch.setattr(runner._scheduler, "call_later", spy)
    ts.install_time_scale(runner, "sqlite", str(tmp_path / "executions.db"), False, environ={ts.ENV_VAR: "100"}, record_at_exit=False)
    runner._executor._invoke_execution("arn:none", delay=5)
    runner._scheduler.call_later(lambda: None, delay=500)
    assert seen == [5.0, 5.0]  # the retry back-off: 5 real s; a 500 s durable timer: 5 real s


def test_modelled_time_continues_after_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "executions.db"
    with web_runner(store) as first:
        scaled = ts.install_time_scale(first, "sqlite", str(store), False, environ={ts.ENV_VAR: "86400"}, record_at_exit=False)
        deadline = time.monotonic() + 5
        while scaled.clock.now() - datetime.now(UTC) < timedelta(hours=2) and time.monotonic() < deadline:
            time.sleep(0.01)  # poll: one real ms is a modelled day and a bit
        before_stop = scaled.clock.now()
        scaled.record()  # what atexit does on a graceful stop
    ahead = before_stop - datetime.now(UTC)
    assert ahead > timedelta(hours=1)
    with web_runner(store) as second:
        # Scale 1 now, but the store has an anchor: modelled time keeps its lead, never runs back.
        again = ts.install_time_scale(second, "sqlite", str(store), False, environ={}, record_at_exit=False)
        assert again is not None and again.clock.scale == 1
        assert again.clock.now() >= before_stop


def test_bad_values_and_skip_time_are_refused(runner: WebRunner, tmp_path: Path) -> None:
    for bad in ("fast", "0.5", "0"):
        with pytest.raises(ts.TimeScaleUnsupported, match=ts.ENV_VAR):
            ts.scale_from_env({ts.ENV_VAR: bad})
    with pytest.raises(ts.TimeScaleUnsupported, match="skip-time"):
        ts.install_time_scale(runner, "sqlite", str(tmp_path / "executions.db"), True, environ={ts.ENV_VAR: "10"}, record_at_exit=False)


def test_a_runner_without_the_internals_is_refused() -> None:
    class Partial:
        _executor = object()
        _scheduler = object()

    with pytest.raises(ts.TimeScaleUnsupported, match="Executor._clock is missing"):
        ts.check_internals(Partial())


def test_continue_from_never_goes_before_the_store() -> None:
    real = datetime(2026, 1, 1, tzinfo=UTC)
    previous = ts.Anchor(real=real - timedelta(seconds=10), model=real + timedelta(days=2), scale=1000)
    assert ts.continue_from(previous, real, None) == real + timedelta(days=2, seconds=10)  # downtime: real time
    latest = real + timedelta(days=5)
    assert ts.continue_from(previous, real, latest) > latest
    assert ts.continue_from(None, real, None) == real
