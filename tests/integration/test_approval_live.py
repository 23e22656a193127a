"""The approval wait on a live stack: listed, answered from the CLI, restarted, and three days in seconds.

- A large expense waits; `workshop approvals` lists it; `workshop approve` completes it.
- It survives `stack.down` / `stack.up` while it waits, and completes when approved.
- On a private stack whose runner runs 43200x faster (WORKSHOP_TIME_SCALE: 12
  modelled hours per real second), the template's real durations play out:
  the approver's side heartbeats (so the 1-day heartbeat timeout never fires),
  nobody decides, the 3-day timeout fires, the request escalates once, the
  1-day escalation times out and the policy rejects it; the history shows the
  modelled days, the wall clock a few seconds.

All waiting is polling with a deadline.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration.conftest import make_config, running_stack
from tests.integration.polling import finished, result_of, wait_for
from workshop import cli, stack
from workshop import registry as function_registry
from workshop.config import StackConfig, boto3_client
from workshop.runner.timescale import ENV_VAR

pytestmark = pytest.mark.live

FUNCTION = "approval-wait:live"
SCALE = 43200


def expense(amount: str = "2500.00") -> dict[str, Any]:
    return {"request_id": f"exp-{uuid.uuid4().hex[:10]}", "employee": "ana", "amount": amount, "currency": "EUR", "description": "conference trip"}


def start(lam: Any, payload: dict[str, Any]) -> str:
    response = lam.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=json.dumps(payload).encode())
    assert response["StatusCode"] == 202
    return response["DurableExecutionArn"]


def table_name(config: StackConfig) -> str:
    return function_registry.function(config, "approval-wait")["environment"]["APPROVALS_TABLE"]


def request(config: StackConfig, request_id: str) -> dict[str, Any] | None:
    item = boto3_client("dynamodb", config).get_item(TableName=table_name(config), Key={"request_id": {"S": request_id}}, ConsistentRead=True).get("Item")
    return {k: next(iter(v.values())) for k, v in item.items()} if item else None


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str], request_id: str) -> bool:
    code, out, _ = run_cli(capsys, "approvals")
    assert code == 0
    return request_id in out


# ----------------------------------------------------------- default stack
def test_pending_approval_is_listed_and_approved_from_the_cli(live_stack: StackConfig, capsys: pytest.CaptureFixture[str]) -> None:
    lam = boto3_client("lambda", live_stack)
    small = result_of(finished(lam, start(lam, expense(amount="99.00"))))
    assert small["status"] == "APPROVED" and small["reason"] == "BELOW_THRESHOLD"

    payload = expense()
    arn = start(lam, payload)
    wait_for(lambda: listed(capsys, payload["request_id"]), "`workshop approvals` to list the request")
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"

    code, out, err = run_cli(capsys, "approve", payload["request_id"], "--approver", "bo", "--comment", "fine")
    assert code == 0, err
    result = result_of(finished(lam, arn))
    assert result["status"] == "APPROVED" and result["reason"] == "APPROVED" and result["approver"] == "bo"
    assert not listed(capsys, payload["request_id"])
    assert request(live_stack, payload["request_id"])["status"] == "APPROVED"

    # The secret the function signs with appears in neither the history nor the function's logs.
    token = boto3_client("secretsmanager", live_stack).get_secret_value(SecretId="workshop/approval/notification-token")["SecretString"]
    history = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]
    assert token not in json.dumps(history, default=str) and "sha256=" in json.dumps(history, default=str)
    code, out, _ = run_cli(capsys, "logs", "approval-wait", "--execution", arn)
    assert code == 0 and "Approval requested" in out and token not in out


def test_reject_and_unknown_ids_from_the_cli(live_stack: StackConfig, capsys: pytest.CaptureFixture[str]) -> None:
    lam = boto3_client("lambda", live_stack)
    code, _, err = run_cli(capsys, "approve", "exp-does-not-exist")
    assert code == 1 and "No approval request 'exp-does-not-exist'" in err and "Traceback" not in err

    payload = expense()
    arn = start(lam, payload)
    wait_for(lambda: request(live_stack, payload["request_id"]), "the request to be recorded")
    code, _, err = run_cli(capsys, "reject", payload["request_id"], "--reason", "over budget")
    assert code == 0, err
    result = result_of(finished(lam, arn))
    assert result["status"] == "REJECTED" and result["detail"] == "over budget"
    code, _, err = run_cli(capsys, "reject", payload["request_id"], "--reason", "again")
    assert code == 1 and "already decided" in err


def test_waiting_approval_survives_down_and_up(live_stack: StackConfig, capsys: pytest.CaptureFixture[str]) -> None:
    lam = boto3_client("lambda", live_stack)
    payload = expense()
    arn = start(lam, payload)
    wait_for(lambda: request(live_stack, payload["request_id"]), "the request to be recorded")

    stack.down(live_stack, say=lambda line: None)
    assert not any(stack.running_pid(live_stack, service) for service in stack.SERVICES)
    stack.up(live_stack, say=lambda line: None)

    lam = boto3_client("lambda", live_stack)
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    assert listed(capsys, payload["request_id"])
    code, _, err = run_cli(capsys, "approve", payload["request_id"])
    assert code == 0, err
    assert result_of(finished(lam, arn))["status"] == "APPROVED"


# ----------------------------------------------------- accelerated stack
@pytest.fixture(scope="module")
def fast_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    """A second private stack whose runner's clock runs SCALE times faster."""
    with running_stack(make_config(tmp_path_factory.mktemp("fast-stack")), {ENV_VAR: str(SCALE)}) as config:
        yield config


def _when(event: dict[str, Any]) -> datetime:
    stamp = event["EventTimestamp"]
    return stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))


def test_three_day_wait_with_escalation_plays_in_seconds(fast_stack: StackConfig) -> None:
    lam = boto3_client("lambda", fast_stack)
    policy = boto3_client("ssm", fast_stack).get_parameter(Name="/workshop/approval/timeouts")["Parameter"]["Value"]
    assert json.loads(policy) == {"approval_seconds": 259200, "heartbeat_seconds": 86400, "escalation_seconds": 86400}  # AWS's values

    began = time.monotonic()
    payload = expense()
    arn = start(lam, payload)
    # The approver's side is alive (heartbeats well inside the 1-day = 2 s heartbeat timeout) but never decides.
    record = wait_for(lambda: request(fast_stack, payload["request_id"]), "the request to be recorded", 20, interval=0.05)
    beats = 0
    deadline = time.monotonic() + 30
    while record["status"] == "PENDING" and time.monotonic() < deadline:
        try:
            lam.send_durable_execution_callback_heartbeat(CallbackId=record["callback_id"])
            beats += 1
        except lam.exceptions.ClientError:  # the callback timed out between the read and the beat
            pass
        time.sleep(0.2)  # the heartbeat cadence itself, not a wait for a condition
        record = request(fast_stack, payload["request_id"])
    assert record["status"] == "ESCALATED", record
    result = result_of(finished(lam, arn, deadline_s=60))
    elapsed = time.monotonic() - began

    assert result["status"] == "REJECTED" and result["reason"] == "NO_DECISION" and result["escalated"]
    events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    started = {e["Name"]: e for e in events if e["EventType"] == "CallbackStarted"}
    ended = {e["Id"]: e for e in events if e["EventType"] == "CallbackTimedOut"}
    approval_wait = _when(ended[started["approval"]["Id"]]) - _when(started["approval"])
    escalation_wait = _when(ended[started["escalation"]["Id"]]) - _when(started["escalation"])
    # Modelled time: the 3-day timeout fired (not the 1-day heartbeat timeout), then the 1-day escalation.
    assert timedelta(days=3) <= approval_wait < timedelta(days=3, hours=12), approval_wait
    assert timedelta(days=1) <= escalation_wait < timedelta(days=1, hours=12), escalation_wait
    assert beats >= 5
    assert elapsed < 45, f"four modelled days took {elapsed:.1f} real seconds"
    print(f"\nmodelled: approval {approval_wait}, escalation {escalation_wait}; real: {elapsed:.1f} s, {beats} heartbeats")
