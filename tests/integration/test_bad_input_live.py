"""Bad input not covered elsewhere, on a live private stack, and the CLI's answer to each.

Already covered, not repeated here: unknown function, unqualified durable
name, malformed JSON payload, async payload over 256 KB and unknown callback
id through the Lambda API (test_function_host.py); a closed callback answered
again through the API (test_order_saga_live.py); SQS messages that are not
JSON reaching the DLQ with their reason on record (test_ingest_live.py, whose
workload includes non-JSON bodies, and test_event_source_mapping.py).

Here:
- a synchronous payload over 6 MB: RequestTooLargeException, as on AWS;
- a callback result that is not JSON: AWS takes any blob (Result is bytes),
  so the API accepts it and the saga completes with the text as the
  warehouse's message; the `workshop` CLI refuses it before sending (exit 2,
  the callback still waits);
- the CLI run as a subprocess for every error case: a clear message on
  stderr, the documented exit code, and never a Python traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import export, free_port
from tests.integration.polling import finished, result_of
from tests.integration.test_order_saga_live import order, pending_callback, start
from tests.integration.polling import wait_for
from workshop.config import REPO_ROOT, StackConfig, boto3_client

pytestmark = pytest.mark.live


@pytest.fixture()
def lam(live_stack: StackConfig) -> Any:
    return boto3_client("lambda", live_stack)


def workshop_cli(config: StackConfig, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m workshop ARGS` in a subprocess against this stack, as a learner runs it."""
    environment = {**os.environ, **export(config), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "workshop", *args], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def assert_clean_error(run: subprocess.CompletedProcess[str], exit_code: int, *phrases: str) -> None:
    output = run.stdout + run.stderr
    assert "Traceback" not in output, output
    assert run.returncode == exit_code, (run.returncode, output)
    for phrase in phrases:
        assert phrase in run.stderr, (phrase, run.stderr)


def test_sync_payload_over_6_mb_is_request_too_large(lam: Any) -> None:
    big = json.dumps({"blob": "x" * (6 * 1024 * 1024)}).encode()
    with pytest.raises(ClientError) as exc:
        lam.invoke(FunctionName="payment", Payload=big)
    assert exc.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert "RequestResponse" in str(exc.value)


def test_callback_result_that_is_not_json_is_a_blob_for_the_api(lam: Any) -> None:
    """SendDurableExecutionCallbackSuccess's Result is a blob on AWS: any bytes are accepted, nothing is lost."""
    arn = start(lam, order(warehouse="manual"))
    callback_id = wait_for(lambda: pending_callback(lam, arn), "the saga to wait on the warehouse callback")
    lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"shipped today, no tracking id")
    result = result_of(finished(lam, arn))
    assert result["status"] == "COMPLETED"
    completed = [
        e for e in lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]
        if e["EventType"] == "CallbackSucceeded"
    ]  # fmt: skip
    assert completed[0]["CallbackSucceededDetails"]["Result"]["Payload"] == "shipped today, no tracking id"


def test_cli_callback_errors_are_clear_and_nothing_is_sent(live_stack: StackConfig, lam: Any) -> None:
    arn = start(lam, order(warehouse="manual"))
    callback_id = wait_for(lambda: pending_callback(lam, arn), "the saga to wait on the warehouse callback")

    # Not JSON: refused by the CLI before anything is sent (argparse usage error, exit 2).
    run = workshop_cli(live_stack, "callback", "succeed", callback_id, "--result", "notjson")
    assert_clean_error(run, 2, "not valid JSON", "notjson")
    assert pending_callback(lam, arn) == callback_id, "the callback was answered although the CLI refused the result"

    run = workshop_cli(live_stack, "callback", "succeed", callback_id, "--result", '{"shipment_id": "ship-cli"}')
    assert run.returncode == 0 and "Traceback" not in run.stdout + run.stderr, run.stderr
    assert result_of(finished(lam, arn))["status"] == "COMPLETED"

    # Already closed: the AWS error, exit 1.
    run = workshop_cli(live_stack, "callback", "succeed", callback_id, "--result", "{}")
    assert_clean_error(run, 1)
    assert run.stderr.strip(), "no message for an already-closed callback"

    # Unknown id: ResourceNotFoundException, exit 1.
    run = workshop_cli(live_stack, "callback", "fail", "no-such-callback", "--error-type", "Rejected")
    assert_clean_error(run, 1, "ResourceNotFoundException", "no-such-callback")


@pytest.mark.parametrize(
    ("args", "exit_code", "phrases"),
    [
        (("start", "no-such-function:live", "--payload", "{}"), 1, ("ResourceNotFoundException", "no-such-function")),
        (("start", "order-saga", "--payload", "{}"), 1, ("InvalidParameterValueException", "qualified")),
        (("start", "order-saga:live", "--payload", '{"order_id": '), 2, ("not valid JSON",)),
        (("start", "payment:live", "--payload", "{}"), 1, ("not a durable function",)),
        (("show", "arn:aws:lambda:us-east-1:000000000000:function:order-saga:live/durable-execution/nope/nope"), 1, ()),
        (("no-such-command",), 2, ("invalid choice",)),
    ],
    ids=["unknown-function", "unqualified-durable", "malformed-payload", "plain-function", "unknown-execution", "unknown-command"],
)
def test_cli_errors_are_clear_without_a_traceback(live_stack: StackConfig, args: tuple[str, ...], exit_code: int, phrases: tuple[str, ...]) -> None:
    run = workshop_cli(live_stack, *args)
    assert_clean_error(run, exit_code, *phrases)
    assert run.stderr.strip(), "no message at all"


def test_cli_with_the_stack_down_or_a_bad_port_says_so(live_stack: StackConfig) -> None:
    down = {"WORKSHOP_HOST_PORT": str(free_port()), "WORKSHOP_EMULATOR_PORT": str(free_port())}
    run = workshop_cli(live_stack, "callback", "succeed", "some-id", "--result", "{}", env=down)
    assert_clean_error(run, 1, "not running", "make up")
    run = workshop_cli(live_stack, "list", env={"WORKSHOP_HOST_PORT": "not-a-port"})
    assert_clean_error(run, 2, "WORKSHOP_HOST_PORT")
