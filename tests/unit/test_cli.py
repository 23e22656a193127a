"""The workshop CLI without a stack: argument errors, AWS error formatting, a stack that is not running,
and the commands' calls and output against stubbed or fake clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from workshop import cli
from workshop.cli import executions, main
from workshop.inspect import Services
from workshop.config import StackConfig, boto3_client
from workshop.stack.processes import free_port

FIXTURES = Path(__file__).parent / "fixtures"




def config_for(tmp_path: Path, registry: dict[str, Any] | None = None) -> StackConfig:
    if registry is not None:
        (tmp_path / "functions.json").write_text(json.dumps(registry), encoding="utf-8")
    return StackConfig(state_dir=tmp_path, emulator_port=free_port(), runner_port=free_port(), host_port=free_port())


def stubbed_lambda(config: StackConfig) -> tuple[Any, Stubber]:
    client = boto3_client("lambda", config)
    return client, Stubber(client)


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"timeline_{name}.json").read_text(encoding="utf-8"))


class FakePaginator:
    def __init__(self, pages: Any) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append(kwargs)
        return self.pages(kwargs) if callable(self.pages) else self.pages


class FakeLambda:
    """Only what the commands under test call."""

    def __init__(self, history: list[dict[str, Any]] | None = None, executions: dict[str, list[dict]] | None = None) -> None:
        self.history = FakePaginator([{"Events": history or []}])
        self.listing = FakePaginator(lambda kw: [{"DurableExecutions": (executions or {}).get(kw["FunctionName"], [])}])
        self.statuses: list[dict[str, Any]] = []
        self.invokes: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> FakePaginator:
        return {"get_durable_execution_history": self.history, "list_durable_executions_by_function": self.listing}[name]

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.invokes.append(kwargs)
        return {"StatusCode": 202, "DurableExecutionArn": "exec/1"}

    def get_durable_execution(self, **_: Any) -> dict[str, Any]:
        return self.statuses.pop(0)


class FakeLogs:
    """get_log_events over the framed lines of a recorded fixture (one page)."""

    def __init__(self, logs: dict[str, list[str]]) -> None:
        self.events = [{"timestamp": 1, "message": line} for lines in logs.values() for line in lines]

    def get_log_events(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("nextToken"):
            return {"events": [], "nextForwardToken": kwargs["nextToken"]}
        return {"events": self.events, "nextForwardToken": "f/1"}


class RecordedServices(Services):
    """Services whose invocation index is a recorded fixture's."""

    def __init__(self, config: StackConfig, recorded: dict[str, Any], lambda_: Any) -> None:
        super().__init__(config=config, clients={"lambda": lambda_, "logs": FakeLogs(recorded["logs"])})
        self.recorded = recorded

    def invocations(self, execution_arn: str | None = None, function: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.recorded["invocations"] if execution_arn in (None, e["execution_arn"])]


# --------------------------------------------------------- argument errors
def test_bad_json_payload_exits_2_with_a_message_and_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["start", "demo:live", "--payload", '{"k":']) == 2
    captured = capsys.readouterr()
    assert "argument --payload: not valid JSON" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_bad_json_callback_result_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["callback", "succeed", "cb-1", "--result", "{approved"]) == 2
    assert "argument --result: not valid JSON" in capsys.readouterr().err


def test_missing_arguments_and_unknown_commands_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["start", "demo:live"]) == 2  # --payload is required
    assert main(["frobnicate"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_help_exits_0_and_explains_the_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["timeline", "--help"]) == 0
    out = capsys.readouterr().out
    assert "timeline" in out and "replay" in out.lower()


# ------------------------------------------------------- AWS errors
def test_client_error_prints_code_and_message_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(tmp_path)
    client, stub = stubbed_lambda(config)
    stub.add_client_error(
        "get_durable_execution",
        service_error_code="ResourceNotFoundException",
        service_message="Durable Execution does not exist",
        http_status_code=404,
        expected_params={"DurableExecutionArn": "missing/arn", "IncludeExecutionData": True},
    )
    with stub:
        code = main(["show", "missing/arn"], services=Services(config=config, clients={"lambda": client}))
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.strip() == "ResourceNotFoundException: Durable Execution does not exist"
    assert "Traceback" not in captured.err and captured.out == ""
    stub.assert_no_pending_responses()


def test_stack_not_running_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    monkeypatch.setenv("WORKSHOP_HOST_PORT", str(port))
    monkeypatch.setenv("WORKSHOP_STATE_DIR", str(tmp_path))
    expected = f"The local stack is not running at http://127.0.0.1:{port} — start it with `make up`"
    for argv in (["show", "x/y"], ["timeline", "x/y"], ["start", "demo:live", "--payload", "{}"], ["callback", "pending", "x/y"]):
        assert main(argv) == 1, argv
        captured = capsys.readouterr()
        assert captured.err.strip() == expected, argv
        assert "Traceback" not in captured.err


def test_invocation_index_unreachable_says_the_stack_is_down(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with pytest.raises(cli.CliError, match=r"not running at http://127\.0\.0\.1:\d+ — start it with `make up`"):
        Services(config=config).invocations(execution_arn="x/y")


def test_emulator_not_running_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    monkeypatch.setenv("WORKSHOP_EMULATOR_PORT", str(port))
    monkeypatch.setenv("WORKSHOP_STATE_DIR", str(tmp_path))
    assert main(["logs", "demo"]) == 1
    assert f"emulator of the local stack is not running at http://127.0.0.1:{port}" in capsys.readouterr().err


# ------------------------------------------------------------ start
def test_start_invokes_asynchronously_with_the_name_and_prints_the_arn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(tmp_path)
    client, stub = stubbed_lambda(config)
    stub.add_response(
        "invoke",
        {"StatusCode": 202, "DurableExecutionArn": "exec/abc"},
        expected_params={
            "FunctionName": "order-saga:live",
            "InvocationType": "Event",
            "Payload": b'{"order_id": "o-1"}',
            "DurableExecutionName": "o-1",
        },
    )
    with stub:
        code = main(
            ["start", "order-saga:live", "--payload", '{"order_id": "o-1"}', "--name", "o-1"],
            services=Services(config=config, clients={"lambda": client}),
        )
    assert code == 0
    assert capsys.readouterr().out.strip() == "exec/abc"
    stub.assert_no_pending_responses()


def test_start_refuses_a_plain_function_without_invoking_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(tmp_path, {"functions": {"plain": {"durable": None}}})
    fake = FakeLambda()
    assert main(["start", "plain:$LATEST", "--payload", "{}"], services=Services(config=config, clients={"lambda": fake})) == 1
    assert "plain is not a durable function" in capsys.readouterr().err
    assert fake.invokes == []


@pytest.mark.parametrize(
    ("final", "code", "stream", "text"),
    [
        ({"Status": "SUCCEEDED", "Result": '{"ok": true}'}, 0, "out", '"ok": true'),
        ({"Status": "FAILED", "Error": {"ErrorType": "ValueError", "ErrorMessage": "order invalid"}}, 1, "err", "FAILED: ValueError: order invalid"),
    ],
)
def test_start_wait_polls_until_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], final: dict, code: int, stream: str, text: str
) -> None:
    monkeypatch.setattr(executions.time, "sleep", lambda _s: None)
    fake = FakeLambda()
    fake.statuses = [{"Status": "RUNNING"}, {"Status": "RUNNING"}, final]
    services = Services(config=config_for(tmp_path), clients={"lambda": fake})
    assert main(["start", "demo:live", "--payload", "{}", "--wait"], services=services) == code
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "exec/1"
    assert text in getattr(captured, stream)
    assert fake.statuses == []  # polled until the final status, not beyond


def test_start_wait_gives_up_at_the_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(executions.time, "sleep", lambda _s: None)
    fake = FakeLambda()
    fake.statuses = [{"Status": "RUNNING"}]
    services = Services(config=config_for(tmp_path), clients={"lambda": fake})
    assert main(["start", "demo:live", "--payload", "{}", "--wait", "--timeout", "0"], services=services) == 1
    assert "Still RUNNING after 0 s" in capsys.readouterr().err


# ------------------------------------------------------------- callbacks
def test_callback_commands_send_the_aws_requests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(tmp_path)
    client, stub = stubbed_lambda(config)
    stub.add_response("send_durable_execution_callback_success", {}, {"CallbackId": "cb-1", "Result": b'{"approved": true}'})
    stub.add_response(
        "send_durable_execution_callback_failure",
        {},
        {"CallbackId": "cb-2", "Error": {"ErrorType": "Rejected", "ErrorMessage": "no stock"}},
    )
    stub.add_response("send_durable_execution_callback_heartbeat", {}, {"CallbackId": "cb-3"})
    services = Services(config=config, clients={"lambda": client})
    with stub:
        assert main(["callback", "succeed", "cb-1", "--result", '{"approved": true}'], services=services) == 0
        assert main(["callback", "fail", "cb-2", "--error-type", "Rejected", "--error-message", "no stock"], services=services) == 0
        assert main(["callback", "heartbeat", "cb-3"], services=services) == 0
    stub.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "sent success to callback cb-1" in out and "sent failure to callback cb-2" in out


def test_callback_pending_lists_the_open_callback_with_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # rich's width when not on a terminal; keeps table cells on one line
    recorded = load("saga")
    # The history as it stood after invocation 2: waiting for the approval callback.
    history = [e for e in recorded["history"] if e["EventId"] <= 13]
    callback_id = next(e for e in history if e["EventType"] == "CallbackStarted")["CallbackStartedDetails"]["CallbackId"]
    services = Services(config=config_for(tmp_path), clients={"lambda": FakeLambda(history=history)})
    assert main(["callback", "pending", recorded["execution_arn"]], services=services) == 0
    out = capsys.readouterr().out
    assert "approval (wait_for_callback)" in out
    assert f"workshop callback succeed {callback_id} --result" in out


def test_callback_pending_without_open_callbacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = Services(config=config_for(tmp_path), clients={"lambda": FakeLambda(history=load("saga")["history"])})
    assert main(["callback", "pending", "x/y"], services=services) == 0
    assert "No callback is waiting" in capsys.readouterr().out


# ------------------------------------------------------------------ list
def test_list_asks_for_every_durable_function_in_the_registry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = {"functions": {"saga": {"durable": {"ExecutionTimeout": 60}}, "plain": {"durable": None}, "demo": {"durable": {}}}}
    # "demo": an empty DurableConfig is falsy: not durable, as the host treats it
    fake = FakeLambda(
        executions={
            "saga": [{"DurableExecutionName": "o-42", "DurableExecutionArn": "a/b", "Status": "RUNNING", "StartTimestamp": 1795703542.5}]
        }
    )
    services = Services(config=config_for(tmp_path, registry), clients={"lambda": fake})
    assert main(["list"], services=services) == 0
    assert fake.listing.calls == [{"FunctionName": "saga"}]
    out = capsys.readouterr().out
    assert "o-42" in out and "RUNNING" in out and "a/b" in out

    assert main(["list", "saga:live", "--status", "RUNNING"], services=services) == 0
    assert fake.listing.calls[-1] == {"FunctionName": "saga", "Qualifier": "live", "Statuses": ["RUNNING"]}


def test_list_without_a_registry_says_how_to_start_the_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = Services(config=config_for(tmp_path), clients={"lambda": FakeLambda()})
    assert main(["list"], services=services) == 1
    assert "make up" in capsys.readouterr().err


# --------------------------------------------------------------- timeline
def test_timeline_json_joins_history_index_and_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded = load("demo")
    services = RecordedServices(config_for(tmp_path), recorded, FakeLambda(history=recorded["history"]))
    assert main(["timeline", recorded["execution_arn"], "--json"], services=services) == 0
    data = json.loads(capsys.readouterr().out)
    assert [i["request_id"] for i in data["invocations"]] == [e["request_id"] for e in recorded["invocations"]]
    assert [line["text"] for line in data["invocations"][1]["logs"]] == ["replay-visible print demo"]
    assert data["status"] == "SUCCEEDED"


def test_timeline_draws_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded = load("demo")
    services = RecordedServices(config_for(tmp_path), recorded, FakeLambda(history=recorded["history"]))
    assert main(["timeline", recorded["execution_arn"]], services=services) == 0
    out = capsys.readouterr().out
    first, second = out.index("Invocation 1"), out.index("Invocation 2")
    assert first < out.index("⏸ suspended on") < second < out.index("↺ replayed")
    assert "replay-visible print demo" in out[second:]
    assert "SUCCEEDED" in out


def test_timeline_marks_what_the_sdk_recorder_confirmed_and_where_it_disagrees(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded = load("saga_recorded")
    second = sorted(recorded["invocations"], key=lambda e: e["start"])[1]
    next(op for op in second["replay"]["operations"] if op["name"] == "reserve")["ran"] = True
    services = RecordedServices(config_for(tmp_path), recorded, FakeLambda(history=recorded["history"]))
    assert main(["timeline", recorded["execution_arn"]], services=services) == 0
    out = " ".join(line.strip(" │├└─") for line in capsys.readouterr().out.splitlines())  # undo the 80-column wrap
    assert out.count("✓ SDK") == 4 + 1  # every invocation, and the legend
    two, three = out.index("Invocation 2"), out.index("Invocation 3")
    assert two < out.index("⚠ history: replayed; SDK recorder: ran") < three
    assert "Invocation 2: reserve — the history says replayed, the SDK's recorder says ran" in out


# ------------------------------------------------------------------ logs
def test_logs_for_one_execution_only_prints_its_invocations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded = load("demo")
    logs = dict(recorded["logs"])
    logs["someone-else"] = ["START RequestId: someone-else Version: $LATEST", "not mine", "END RequestId: someone-else"]
    services = RecordedServices(config_for(tmp_path), {**recorded, "logs": logs}, FakeLambda())
    assert main(["logs", "demo", "--execution", recorded["execution_arn"]], services=services) == 0
    out = capsys.readouterr().out
    assert "replay-visible print demo" in out and "not mine" not in out
    assert out.count("START RequestId:") == 2
