"""The durable runner picks suspended executions up again after a restart.

One private stack (free ports, a temporary state folder, its own small
registry: no provisioning from infra/template.yaml) runs seven executions into
their suspensions, is stopped completely (function host, runner, emulator, by
pid), stays down until a callback timeout and an execution timeout have passed,
and is started again. Each test then checks one execution. All waiting is
polling with a deadline.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.polling import wait_for
from workshop import capped_files, stack
from workshop import registry as function_registry
from workshop.runner import function_configs
from workshop.stack import processes
from workshop.config import StackConfig, boto3_client
from workshop.runner.internals import RecoveryUnsupported, check_internals

CODE = '''
import json, os, time
from pathlib import Path
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_durable_execution_sdk_python.exceptions import CallbackError


@durable_execution
def waiter(event, context: DurableContext):
    first = context.step(lambda _: "one", name="first")
    context.wait(Duration.from_seconds(event["wait"]), name="pause")
    return {"first": first, "waited": event["wait"]}


@durable_execution
def approver(event, context: DurableContext):
    callback = context.create_callback(
        name="approval",
        config=CallbackConfig(timeout=Duration.from_seconds(event.get("timeout", 0)),
                              heartbeat_timeout=Duration.from_seconds(event.get("heartbeat", 0))),
    )
    try:
        return {"approved": callback.result()}
    except CallbackError as error:  # timed out: compensate instead of failing
        return {"compensated": type(error).__name__, "message": str(error)}


def _slow(marker_dir):
    runs = Path(marker_dir)
    runs.mkdir(parents=True, exist_ok=True)
    attempt = len(list(runs.iterdir())) + 1
    (runs / f"run-{attempt}").write_text(str(os.getpid()))
    if attempt == 1:
        time.sleep(20)  # the stack is restarted while this first attempt runs
    return attempt


@durable_execution
def inflight(event, context: DurableContext):
    attempt = context.step(lambda _: _slow(event["markers"]), name="slow")
    return {"attempt": attempt}
'''

# Every timer must still be ahead when the stack goes down, which is after seven executions have
# started and suspended and one heartbeat was sent: with make test's three pytest processes on two
# cores that took up to ~10 s, so the timers due while down leave 12-16 s for it.
WAIT_DUE_WHILE_DOWN_S = 12
WAIT_AFTER_RESTART_S = 36
CALLBACK_TIMEOUT_S = 12
EXECUTION_TIMEOUT_S = 16
HEARTBEAT_TIMEOUT_S = 24
HEARTBEAT_AFTER_S = 3  # the one heartbeat is sent this long after the callback started


def _function(code_dir: Path, handler: str, execution_timeout: int = 120, timeout: int = 10) -> dict[str, Any]:
    return {
        "code_dir": str(code_dir), "handler": handler, "timeout": timeout, "memory": 128, "environment": {},
        "durable": {"ExecutionTimeout": execution_timeout, "RetentionPeriodInDays": 1},
        "aliases": ["live"], "log_group": f"/aws/lambda/{handler.split('.')[-1]}",
    }  # fmt: skip


@dataclass
class Restarted:
    config: StackConfig
    arns: dict[str, str]
    markers: Path
    heartbeat_sent_at: datetime
    callback_ids: dict[str, str]
    due: dict[str, datetime]  # when each timer was due, from the history before the restart
    stopped_at: datetime  # all three services down
    restarting_at: datetime  # starting again
    restarted_at: datetime  # all three healthy again
    timings: dict[str, float] = field(default_factory=dict)

    def client(self) -> Any:
        return boto3_client("lambda", self.config)

    def history(self, name: str) -> list[dict[str, Any]]:
        return self.client().get_durable_execution_history(DurableExecutionArn=self.arns[name])["Events"]

    def finished(self, name: str, deadline_s: float = WAIT_AFTER_RESTART_S + 20) -> dict[str, Any]:
        client = self.client()

        def done() -> dict[str, Any] | None:
            found = client.get_durable_execution(DurableExecutionArn=self.arns[name], IncludeExecutionData=True)
            return found if found["Status"] != "RUNNING" else None

        return wait_for(done, f"{name} finished", deadline_s)


def _events(client: Any, arn: str) -> list[dict[str, Any]]:
    return client.get_durable_execution_history(DurableExecutionArn=arn)["Events"]


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [event["EventType"] for event in events]


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restarted]:
    root = tmp_path_factory.mktemp("recovery")
    code_dir = root / "code"
    code_dir.mkdir()
    (code_dir / "recovery_fns.py").write_text(textwrap.dedent(CODE))
    config = stack.private_config(root / "state")
    config.state_dir.mkdir(parents=True)
    registry = {
        "functions": {
            "waiter": _function(code_dir, "recovery_fns.waiter"),
            "approver": _function(code_dir, "recovery_fns.approver"),
            "timeboxed": _function(code_dir, "recovery_fns.approver", execution_timeout=EXECUTION_TIMEOUT_S),
            "inflight": _function(code_dir, "recovery_fns.inflight", timeout=60),
        },
        "event_source_mappings": [],
    }
    function_registry.write(config, registry)
    function_configs.write(config.state_dir, registry)
    timings: dict[str, float] = {}

    def start_all(label: str) -> None:
        for service in stack.SERVICES:
            if stack.running_pid(config, service) is None:
                timings[f"{label} {service.name}"] = processes._start(config, service)

    def stop_all(label: str) -> None:
        for service in reversed(stack.SERVICES):
            t = time.monotonic()
            result = processes._stop(config, service)
            timings[f"{label} {service.name}"] = time.monotonic() - t
            assert result.startswith("stopped") or result == "not running", f"{service.name}: {result}"

    # The client side (boto3) must not see a developer's own stack variables.
    saved = {key: os.environ.pop(key, None) for key in ("WORKSHOP_STATE_DIR", "WORKSHOP_EMULATOR_PORT", "WORKSHOP_RUNNER_PORT", "WORKSHOP_HOST_PORT")}
    try:
        start_all("start")
        client = boto3_client("lambda", config)
        markers = root / "markers"

        def start(function: str, payload: dict[str, Any]) -> str:
            response = client.invoke(FunctionName=f"{function}:live", InvocationType="Event", Payload=json.dumps(payload).encode())
            return response["DurableExecutionArn"]

        arns = {
            "wait-due-while-down": start("waiter", {"wait": WAIT_DUE_WHILE_DOWN_S}),
            "wait-after-restart": start("waiter", {"wait": WAIT_AFTER_RESTART_S}),
            "callback": start("approver", {}),
            "callback-timeout": start("approver", {"timeout": CALLBACK_TIMEOUT_S}),
            "heartbeat": start("approver", {"timeout": 120, "heartbeat": HEARTBEAT_TIMEOUT_S}),
            "execution-timeout": start("timeboxed", {}),
            "inflight": start("inflight", {"markers": str(markers)}),
        }

        def suspended(name: str, started: str) -> Callable[[], list[dict[str, Any]] | None]:
            def check() -> list[dict[str, Any]] | None:
                events = _events(client, arns[name])
                types = _types(events)
                # Suspended: the operation started and the invocation that started it returned.
                if started in types and types[-1] == "InvocationCompleted":
                    return events
                return None

            return check

        histories = {
            name: wait_for(suspended(name, started), f"{name} suspended", 20)
            for name, started in [
                ("wait-due-while-down", "WaitStarted"),
                ("wait-after-restart", "WaitStarted"),
                ("callback", "CallbackStarted"),
                ("callback-timeout", "CallbackStarted"),
                ("heartbeat", "CallbackStarted"),
                ("execution-timeout", "CallbackStarted"),
            ]
        }
        wait_for(lambda: (markers / "run-1").exists(), "the in-flight step started", 20)
        callback_ids = {
            name: next(e for e in histories[name] if e["EventType"] == "CallbackStarted")["CallbackStartedDetails"]["CallbackId"]
            for name in ("callback", "callback-timeout", "heartbeat")
        }

        # One heartbeat before the restart: the recovered heartbeat timeout must count from it.
        heartbeat_started = next(e for e in histories["heartbeat"] if e["EventType"] == "CallbackStarted")["EventTimestamp"]
        wait_for(lambda: datetime.now(heartbeat_started.tzinfo) >= heartbeat_started + timedelta(seconds=HEARTBEAT_AFTER_S), "time for the heartbeat", 10)
        client.send_durable_execution_callback_heartbeat(CallbackId=callback_ids["heartbeat"])
        heartbeat_sent_at = datetime.now(heartbeat_started.tzinfo)

        def first(name: str, event_type: str) -> dict[str, Any]:
            return next(e for e in histories[name] if e["EventType"] == event_type)

        due = {
            "wait-due-while-down": first("wait-due-while-down", "WaitStarted")["WaitStartedDetails"]["ScheduledEndTimestamp"],
            "wait-after-restart": first("wait-after-restart", "WaitStarted")["WaitStartedDetails"]["ScheduledEndTimestamp"],
            "callback-timeout": first("callback-timeout", "CallbackStarted")["EventTimestamp"] + timedelta(seconds=CALLBACK_TIMEOUT_S),
            "execution-timeout": first("execution-timeout", "ExecutionStarted")["EventTimestamp"] + timedelta(seconds=EXECUTION_TIMEOUT_S),
        }
        tz = heartbeat_started.tzinfo
        stop_all("stop")
        stopped_at = datetime.now(tz)
        # Down until the short wait, the callback timeout and the execution timeout have all passed.
        down_until = max(due[name] for name in ("wait-due-while-down", "callback-timeout", "execution-timeout")) + timedelta(seconds=0.2)
        wait_for(lambda: datetime.now(tz) > down_until, "the timers due while down passed", 40)
        restarting_at = datetime.now(tz)
        start_all("restart")
        restarted_at = datetime.now(tz)
        timings["restart total"] = (restarted_at - restarting_at).total_seconds()
        yield Restarted(config, arns, markers, heartbeat_sent_at, callback_ids, due, stopped_at, restarting_at, restarted_at, timings)
    finally:
        for service in reversed(stack.SERVICES):
            processes._stop(config, service)
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value


def _due_while_down(r: Restarted, name: str) -> None:
    assert r.stopped_at < r.due[name] < r.restarting_at, f"{name} was not due while the stack was down; the machine is too slow for this timeline"


def _runner_log(r: Restarted) -> str:
    return capped_files.read_text(r.config.state_dir / "logs" / "runner.log")  # across a rotation


@pytest.mark.live
def test_a_wait_that_ended_while_down_fires_at_restart(restarted: Restarted) -> None:
    _due_while_down(restarted, "wait-due-while-down")
    result = restarted.finished("wait-due-while-down")
    assert result["Status"] == "SUCCEEDED", result
    assert json.loads(result["Result"]) == {"first": "one", "waited": WAIT_DUE_WHILE_DOWN_S}


@pytest.mark.live
def test_a_wait_still_running_at_restart_is_rearmed_not_fired_early(restarted: Restarted) -> None:
    assert restarted.due["wait-after-restart"] > restarted.restarted_at
    result = restarted.finished("wait-after-restart")
    assert result["Status"] == "SUCCEEDED", result
    events = restarted.history("wait-after-restart")
    started = next(e for e in events if e["EventType"] == "WaitStarted")
    ended = next(e for e in events if e["EventType"] == "WaitSucceeded")["EventTimestamp"]
    assert ended >= started["WaitStartedDetails"]["ScheduledEndTimestamp"]
    assert ended - started["EventTimestamp"] < timedelta(seconds=WAIT_AFTER_RESTART_S + 5)


@pytest.mark.live
def test_b_callback_sent_after_restart_resumes(restarted: Restarted) -> None:
    client = restarted.client()
    client.send_durable_execution_callback_success(CallbackId=restarted.callback_ids["callback"], Result=b'"approved"')
    result = restarted.finished("callback")
    assert result["Status"] == "SUCCEEDED", result
    assert json.loads(result["Result"]) == {"approved": '"approved"'}


@pytest.mark.live
def test_c_callback_timeout_that_expired_while_down_fires_and_is_handled(restarted: Restarted) -> None:
    _due_while_down(restarted, "callback-timeout")
    result = restarted.finished("callback-timeout")
    assert result["Status"] == "SUCCEEDED", result
    assert json.loads(result["Result"])["compensated"] == "CallbackTimeoutError"
    assert "CallbackTimedOut" in _types(restarted.history("callback-timeout"))


@pytest.mark.live
def test_execution_timeout_that_passed_while_down_times_out_at_restart(restarted: Restarted) -> None:
    _due_while_down(restarted, "execution-timeout")
    result = restarted.finished("execution-timeout", deadline_s=5)
    assert result["Status"] == "TIMED_OUT", result


@pytest.mark.live
def test_heartbeat_timeout_counts_from_the_last_heartbeat_before_restart(restarted: Restarted) -> None:
    result = restarted.finished("heartbeat", deadline_s=HEARTBEAT_TIMEOUT_S + 10)
    assert result["Status"] == "SUCCEEDED", result
    assert json.loads(result["Result"])["compensated"] == "CallbackTimeoutError"
    timed_out = next(e for e in restarted.history("heartbeat") if e["EventType"] == "CallbackTimedOut")["EventTimestamp"]
    # From the callback's start it would have fired HEARTBEAT_AFTER_S earlier.
    assert timed_out >= restarted.heartbeat_sent_at + timedelta(seconds=HEARTBEAT_TIMEOUT_S - 0.5)


@pytest.mark.live
def test_invocation_in_flight_at_restart_is_invoked_again(restarted: Restarted) -> None:
    result = restarted.finished("inflight")
    assert result["Status"] == "SUCCEEDED", result
    assert json.loads(result["Result"]) == {"attempt": 2}  # the step ran again: at least once per retry
    assert sorted(p.name for p in restarted.markers.iterdir()) == ["run-1", "run-2"]


@pytest.mark.live
def test_runner_logs_one_line_per_recovered_execution_and_stops_quickly(restarted: Restarted) -> None:
    log = _runner_log(restarted)
    recovered = [line for line in log.splitlines() if " - recovered " in line]
    assert len(recovered) == len(restarted.arns), recovered
    assert restarted.timings["stop runner"] < 3.0, restarted.timings
    assert "graceful stop took over" not in log
    print("\n".join(recovered), "\n", {k: round(v, 2) for k, v in restarted.timings.items()})


def test_recovery_refuses_a_runner_without_the_internals_it_needs() -> None:
    class Partial:
        _executor = object()
        _store = object()
        _scheduler = object()

    with pytest.raises(RecoveryUnsupported, match=r"Executor\._schedule_earliest_pending is missing"):
        check_internals(Partial())
