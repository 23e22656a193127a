"""The function host answers like Lambda: its errors, its limits, its workers.

Test-only functions are added to the private stack's registry (the host
re-reads it when it changes); their code lives in a temporary folder so one
test can edit it and see the next invocation use the edit.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.integration.polling import wait_for
from workshop import stack
from workshop import registry as function_registry
from workshop.config import StackConfig, boto3_client
from workshop.inspect import Services

pytestmark = pytest.mark.live

FIXTURE_CODE = '''
import json, os, time
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

VERSION = "v1"

def echo(event, context):
    print("echo", VERSION, context.aws_request_id)
    return {"version": VERSION, "event": event, "remaining_ms": context.get_remaining_time_in_millis(),
            "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "arn": context.invoked_function_arn}

def crash(event, context):
    print("about to crash")
    os._exit(7)

def hang(event, context):
    print("about to hang")
    while True:
        time.sleep(0.05)

def fail(event, context):
    raise ValueError("card number is not a number")

@durable_execution
def durable_echo(event, context: DurableContext):
    step = context.step(lambda _: "done", name="only-step")
    context.wait(Duration.from_seconds(1), name="short-wait")
    return {"step": step, "event": event}
'''


@pytest.fixture(scope="module")
def fixture_functions(live_stack: StackConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    code_dir = tmp_path_factory.mktemp("code")
    (code_dir / "fixture_fns.py").write_text(FIXTURE_CODE)
    def entry(handler: str, timeout: int = 5, durable: dict | None = None) -> dict:
        return {
            "code_dir": str(code_dir), "handler": f"fixture_fns.{handler}", "runtime": "python3.13",
            "timeout": timeout, "memory": 128, "environment": {}, "durable": durable,
            "aliases": ["live"] if durable else [], "log_group": f"/aws/lambda/test-{handler}",
        }  # fmt: skip

    function_registry.update(
        live_stack,
        lambda registry: registry["functions"].update(
            {
                "test-echo": entry("echo"),
                "test-crash": entry("crash"),
                "test-hang": entry("hang", timeout=1),
                "test-fail": entry("fail"),
                "test-durable": entry("durable_echo", durable={"ExecutionTimeout": 60, "RetentionPeriodInDays": 1}),
            }
        ),
    )
    return code_dir


@pytest.fixture()
def lam(live_stack: StackConfig):
    return boto3_client("lambda", live_stack)


def invoke(lam, name: str, payload: bytes = b"{}", **kwargs) -> tuple[dict, object]:
    response = lam.invoke(FunctionName=name, Payload=payload, **kwargs)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_plain_function_gets_lambda_context_and_environment(fixture_functions, lam):
    response, body = invoke(lam, "test-echo", b'{"a": 1}')
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert body["event"] == {"a": 1}
    assert body["function"] == "test-echo"
    assert body["arn"].endswith(":function:test-echo")
    assert 0 < body["remaining_ms"] <= 5000


def test_unknown_function_is_resource_not_found(fixture_functions, lam):
    with pytest.raises(ClientError) as exc:
        invoke(lam, "no-such-function")
    assert error_code(exc) == "ResourceNotFoundException"
    assert "no-such-function" in str(exc.value)


def test_unqualified_durable_invoke_is_rejected(fixture_functions, lam):
    with pytest.raises(ClientError) as exc:
        invoke(lam, "test-durable")
    assert error_code(exc) == "InvalidParameterValueException"
    assert "qualified" in str(exc.value)


def test_malformed_json_payload_is_rejected(fixture_functions, lam):
    with pytest.raises(ClientError) as exc:
        invoke(lam, "test-echo", b'{"order_id": ')
    assert error_code(exc) == "InvalidRequestContentException"


def test_async_payload_over_256_kb_is_rejected(fixture_functions, lam):
    big = json.dumps({"blob": "x" * (256 * 1024)}).encode()
    with pytest.raises(ClientError) as exc:
        invoke(lam, "test-echo", big, InvocationType="Event")
    assert error_code(exc) == "RequestTooLargeException"


def test_unknown_callback_id_gets_the_aws_error(fixture_functions, lam):
    with pytest.raises(ClientError) as exc:
        lam.send_durable_execution_callback_success(CallbackId="not-a-callback", Result=b"{}")
    assert error_code(exc) == "ResourceNotFoundException"
    assert "not-a-callback" in str(exc.value)


def test_handler_exception_has_lambda_error_shape(fixture_functions, lam):
    response, body = invoke(lam, "test-fail")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "card number is not a number"


def test_crash_gives_exit_error_and_worker_is_replaced(fixture_functions, lam):
    response, body = invoke(lam, "test-crash")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 7" in body["errorMessage"]
    # a fresh worker serves the next invocation
    response, body = invoke(lam, "test-crash")
    assert body["errorType"] == "Runtime.ExitError"


def test_timeout_gives_lambda_error_and_next_invoke_works(fixture_functions, lam):
    response, body = invoke(lam, "test-hang")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    response, body = invoke(lam, "test-hang")
    assert body["errorType"] == "Sandbox.Timedout"  # the replaced worker ran it again


def test_code_edited_on_disk_is_used_by_next_invocation(fixture_functions, lam):
    _, before = invoke(lam, "test-echo")
    module = fixture_functions / "fixture_fns.py"
    module.write_text(module.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
    try:
        _, after = invoke(lam, "test-echo")
    finally:
        module.write_text(FIXTURE_CODE)
    assert (before["version"], after["version"]) == ("v1", "v2")


def test_output_is_kept_per_invocation_in_cloudwatch_logs(fixture_functions, lam, live_stack):
    response, _ = invoke(lam, "test-echo")
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    logs = boto3_client("logs", live_stack)
    messages = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/test-echo")["events"]]
    start = messages.index(f"START RequestId: {request_id} Version: $LATEST")
    end = messages.index(f"END RequestId: {request_id}")
    assert messages[start + 1 : end] == [f"echo v1 {request_id}"]
    assert messages[end + 1].startswith(f"REPORT RequestId: {request_id}")


def test_durable_sync_invoke_returns_the_result(fixture_functions, lam):
    response, body = invoke(lam, "test-durable:$LATEST", b'{"n": 1}')
    assert "FunctionError" not in response
    assert body == {"step": "done", "event": {"n": 1}}
    assert response["DurableExecutionArn"]


def test_durable_invocations_carry_the_sdk_replay_record_and_plain_ones_none(fixture_functions, lam, live_stack):
    """The worker loads the SDK recorder for a handler that names no plugin; the index keeps its record."""
    response, _ = invoke(lam, "test-durable:$LATEST", b'{"n": 3}')
    services = Services(config=live_stack)
    entries = sorted(services.invocations(execution_arn=response["DurableExecutionArn"]), key=lambda e: e["start"])
    first, second = (entry["replay"] for entry in entries)
    step, wait = sorted(first["operations"], key=lambda op: op["name"])
    assert (step["name"], step["ran"], step["status"], wait["name"], wait["ran"]) == ("only-step", True, "SUCCEEDED", "short-wait", True)
    assert (first["status"], first["suspended_on"]) == ("PENDING", [wait["id"]])
    assert second["status"] == "SUCCEEDED" and second["suspended_on"] == []
    assert {(op["name"], op["is_replayed"], op["ran"]) for op in second["operations"]} == {("only-step", True, False), ("short-wait", True, False)}
    assert '"done"' not in json.dumps(entries)  # the step's result: ids and statuses only, never results

    invoke(lam, "test-echo", b'{"plain": true}')
    plain = services.invocations(function="test-echo")
    assert plain and not any("replay" in entry for entry in plain)


def test_durable_event_invoke_returns_the_arn_at_once(fixture_functions, lam):
    response = lam.invoke(FunctionName="test-durable", Qualifier="live", InvocationType="Event", Payload=b'{"n": 2}')
    assert response["StatusCode"] == 202
    arn = response["DurableExecutionArn"]

    def ended():
        status = lam.get_durable_execution(DurableExecutionArn=arn)["Status"]
        return status if status != "RUNNING" else None

    assert wait_for(ended, "the execution to end", 30) == "SUCCEEDED"


def test_named_start_is_idempotent_and_conflicts_on_other_input(fixture_functions, lam):
    first = lam.invoke(FunctionName="test-durable:live", InvocationType="Event", DurableExecutionName="order-42", Payload=b'{"n": 42}')
    again = lam.invoke(FunctionName="test-durable:live", InvocationType="Event", DurableExecutionName="order-42", Payload=b'{"n": 42}')
    assert first["DurableExecutionArn"] == again["DurableExecutionArn"]
    with pytest.raises(ClientError) as exc:
        lam.invoke(FunctionName="test-durable:live", InvocationType="Event", DurableExecutionName="order-42", Payload=b'{"n": 43}')
    assert error_code(exc) == "DurableExecutionAlreadyStartedException"


def test_port_in_use_is_named(live_stack, tmp_path):
    """A second stack on the first one's ports: a clear message, not a traceback."""
    clash = StackConfig(state_dir=tmp_path, emulator_port=live_stack.emulator_port, runner_port=live_stack.runner_port, host_port=live_stack.host_port)
    with pytest.raises(stack.StackError) as exc:
        stack.up(clash, say=lambda line: None)
    message = str(exc.value.code)
    assert f"Port {live_stack.emulator_port}" in message and "already in use" in message
