"""The approval wait, every path, in-process: DurableFunctionTestRunner + AWS fakes.

What is asserted: the result, the durable operations (names, order), the
approvals table as the CLI would see it, that a threshold changed during the
wait is the one applied, metrics once per execution, and that the secret's
value appears nowhere: not in the captured output (logs, EMF metrics), not in
any step result, callback payload or the execution history, not in the table.

No sleeps: the runner skips durable waits; callback timeouts run on real
timers (AWS's test runner keeps them real), so the timeout paths use
1-second timeouts read from the fake SSM, exactly as the function reads them.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestResult, DurableFunctionTestRunner

from _shared import clients as approval_clients
from approval_wait import handler, notification
from approval_wait.observability import metrics
from workshop.testing.fakes import FakeAWS

TABLE = "approvals"
THRESHOLD = "/workshop/approval/threshold"
TIMEOUTS = "/workshop/approval/timeouts"
SECRET = "workshop/approval/notification-token"
DEADLINE = 20

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def token() -> str:
    return "tok-" + secrets.token_hex(16)


@pytest.fixture
def aws(token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAWS]:
    fake = FakeAWS()
    for name, value in {
        "APPROVALS_TABLE": TABLE,
        "APPROVAL_THRESHOLD_PARAM": THRESHOLD,
        "APPROVAL_TIMEOUTS_PARAM": TIMEOUTS,
        "APPROVER_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    fake.ssm.parameters[THRESHOLD] = "500.00"
    set_waits(fake, approval=3600, heartbeat=0, escalation=3600)
    fake.secretsmanager.secrets[SECRET] = token
    approval_clients.use_factory(fake.client)
    try:
        yield fake
    finally:
        approval_clients.use_factory(None)


@pytest.fixture
def runner(aws: FakeAWS, capsys: pytest.CaptureFixture[str]) -> Iterator[DurableFunctionTestRunner]:
    metrics.clear_metrics()
    capsys.readouterr()
    runner = DurableFunctionTestRunner(handler=handler.lambda_handler, poll_interval=0.05)
    aws.lambda_.runner = runner
    try:
        yield runner
    finally:
        runner.close()


def set_waits(aws: FakeAWS, approval: int, heartbeat: int, escalation: int) -> None:
    aws.ssm.parameters[TIMEOUTS] = json.dumps(
        {"approval_seconds": approval, "heartbeat_seconds": heartbeat, "escalation_seconds": escalation}
    )


def expense(request_id: str = "exp-1", amount: str = "800.00") -> dict[str, Any]:
    return {"request_id": request_id, "employee": "ana", "amount": amount, "currency": "EUR", "description": "team offsite"}


def start(runner: DurableFunctionTestRunner, payload: dict[str, Any]) -> str:
    return runner.run_async(input=json.dumps(payload), execution_timeout=DEADLINE)


def finish(runner: DurableFunctionTestRunner, arn: str) -> DurableFunctionTestResult:
    return runner.wait_for_result(arn, timeout=DEADLINE)


def result_of(result: DurableFunctionTestResult) -> dict[str, Any]:
    assert result.status is InvocationStatus.SUCCEEDED, result.error
    return json.loads(result.result)


def names(result: DurableFunctionTestResult) -> list[str | None]:
    return [operation.name for operation in result.operations]


def item(aws: FakeAWS, request_id: str) -> dict[str, Any]:
    return {k: next(iter(v.values())) for k, v in aws.dynamodb.items(TABLE)[request_id].items()}


def emitted_metrics(stdout: str) -> dict[str, list[float]]:
    found: dict[str, list[float]] = defaultdict(list)
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = blob[definition["Name"]]
                found[definition["Name"]].extend(value if isinstance(value, list) else [value])
    return dict(found)


def assert_secret_nowhere(token: str, runner: DurableFunctionTestRunner, arn: str, result: DurableFunctionTestResult, aws: FakeAWS, captured: str) -> None:
    history = runner.get_execution_history(arn, include_execution_data=True)
    dumped = json.dumps([event.to_dict() if hasattr(event, "to_dict") else repr(event) for event in history.events], default=str)
    operations = repr(result.operations) + repr([op.result if hasattr(op, "result") else None for op in result.operations])
    for where, text in {
        "captured logs and metrics": captured,
        "execution history": dumped,
        "operations and step results": operations,
        "result": str(result.result),
        "approvals table": json.dumps(aws.dynamodb.items(TABLE)),
        "side-effect journal": repr(aws.journal),
    }.items():
        assert token not in text, f"the secret leaked into the {where}"
    # ... and the check itself can see a leak: the history does hold the (non-secret) signature.
    assert "sha256=" in dumped


# --------------------------------------------------------------------- tests
def test_small_amount_is_approved_at_once(runner: DurableFunctionTestRunner, aws: FakeAWS, capsys: pytest.CaptureFixture[str]) -> None:
    result = finish(runner, start(runner, expense(amount="120.50")))
    outcome = result_of(result)
    assert outcome["status"] == "APPROVED" and outcome["reason"] == "BELOW_THRESHOLD"
    assert outcome["decided_by"] == "policy" and outcome["threshold"] == "500.00" and not outcome["escalated"]
    assert names(result) == ["load-policy"]
    assert TABLE not in aws.dynamodb.tables  # nobody to ask: nothing recorded
    assert aws.secretsmanager.reads == []  # the secret is read only when a notification is signed
    assert emitted_metrics(capsys.readouterr().out) == {"ExpenseApproved": [1.0]}


def test_amount_equal_to_the_threshold_needs_no_approver(runner: DurableFunctionTestRunner) -> None:
    assert result_of(finish(runner, start(runner, expense(amount="500.00"))))["reason"] == "BELOW_THRESHOLD"


def test_large_amount_waits_and_is_approved_through_the_callback(
    runner: DurableFunctionTestRunner, aws: FakeAWS, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = start(runner, expense())
    callback_id = runner.wait_for_callback(arn, name="approval", timeout=DEADLINE)
    # the item is written by the step after the callback: poll the table
    pending = _wait_for_item(aws, "exp-1", "PENDING")
    assert pending["callback_id"] == callback_id and pending["stage"] == "approver"
    assert pending["amount"] == "800.00" and pending["execution_arn"] == arn
    assert notification.verify({k: pending[k] for k in ("request_id", "callback_id", "stage", "employee", "amount", "currency", "description")}, pending["signature"], token)

    # What `workshop approve` sends.
    aws.lambda_.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps({"approver": "bo", "comment": "ok"}).encode())
    result = finish(runner, arn)
    outcome = result_of(result)
    assert outcome["status"] == "APPROVED" and outcome["reason"] == "APPROVED"
    assert outcome["decided_by"] == "approver" and outcome["approver"] == "bo" and outcome["detail"] == "ok"
    assert names(result) == ["load-policy", "approval", "notify-approver", "decide"]
    assert item(aws, "exp-1")["status"] == "APPROVED"
    assert_secret_nowhere(token, runner, arn, result, aws, "".join(capsys.readouterr()))


def test_large_amount_is_rejected_through_the_callback(runner: DurableFunctionTestRunner, aws: FakeAWS, capsys: pytest.CaptureFixture[str]) -> None:
    arn = start(runner, expense())
    callback_id = runner.wait_for_callback(arn, name="approval", timeout=DEADLINE)
    # What `workshop reject ID --reason ...` sends.
    aws.lambda_.send_durable_execution_callback_failure(CallbackId=callback_id, Error={"ErrorType": "ExpenseRejected", "ErrorMessage": "not in budget"})
    outcome = result_of(finish(runner, arn))
    assert outcome["status"] == "REJECTED" and outcome["reason"] == "REJECTED" and outcome["detail"] == "not in budget"
    assert not outcome["escalated"]
    assert _wait_for_item(aws, "exp-1", "REJECTED")["decided_reason"] == "REJECTED"
    assert emitted_metrics(capsys.readouterr().out) == {"ExpenseRejected": [1.0]}


def test_timeout_escalates_once_then_rejects(
    runner: DurableFunctionTestRunner, aws: FakeAWS, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    set_waits(aws, approval=1, heartbeat=0, escalation=1)  # callback timeouts are real-time timers
    arn = start(runner, expense())
    result = finish(runner, arn)
    outcome = result_of(result)
    assert outcome["status"] == "REJECTED" and outcome["reason"] == "NO_DECISION"
    assert outcome["escalated"] and outcome["decided_by"] == "policy"
    assert names(result) == ["load-policy", "approval", "notify-approver", "escalation", "escalate", "decide"]
    events = runner.get_execution_history(arn).events
    assert [e.event_type for e in events].count("CallbackTimedOut") == 2  # escalated exactly once
    record = item(aws, "exp-1")
    assert record["status"] == "REJECTED" and record["stage"] == "escalation"
    assert record["callback_id"] == result.get_callback("escalation").callback_id
    stdout = capsys.readouterr()
    assert emitted_metrics(stdout.out) == {"ApprovalEscalated": [1.0], "ExpenseRejected": [1.0]}
    assert_secret_nowhere(token, runner, arn, result, aws, "".join(stdout))


def test_escalation_can_still_be_answered(runner: DurableFunctionTestRunner, aws: FakeAWS) -> None:
    set_waits(aws, approval=1, heartbeat=0, escalation=3600)
    arn = start(runner, expense())
    callback_id = runner.wait_for_callback(arn, name="escalation", timeout=DEADLINE)
    assert _wait_for_item(aws, "exp-1", "ESCALATED")["callback_id"] == callback_id
    aws.lambda_.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps({"approver": "cfo"}).encode())
    outcome = result_of(finish(runner, arn))
    assert outcome["status"] == "APPROVED" and outcome["decided_by"] == "escalation" and outcome["escalated"]


def test_no_heartbeat_escalates_before_the_timeout(runner: DurableFunctionTestRunner, aws: FakeAWS) -> None:
    set_waits(aws, approval=3600, heartbeat=1, escalation=1)
    arn = start(runner, expense())
    result = finish(runner, arn)
    assert result_of(result)["escalated"]
    events = runner.get_execution_history(arn).events
    timed_out = [e for e in events if e.event_type == "CallbackTimedOut"]
    assert "Heartbeat" in json.dumps(timed_out[0].to_dict() if hasattr(timed_out[0], "to_dict") else repr(timed_out[0]), default=str)


def test_threshold_raised_during_the_wait_is_the_one_applied(runner: DurableFunctionTestRunner, aws: FakeAWS) -> None:
    set_waits(aws, approval=1, heartbeat=0, escalation=1)
    arn = start(runner, expense(amount="800.00"))
    runner.wait_for_callback(arn, name="approval", timeout=DEADLINE)
    aws.ssm.parameters[THRESHOLD] = "1000.00"  # the policy changes while the request waits
    outcome = result_of(finish(runner, arn))
    assert outcome["status"] == "APPROVED" and outcome["reason"] == "THRESHOLD_RAISED"
    assert outcome["threshold"] == "1000.00"


def test_threshold_lowered_during_the_wait_does_not_approve(runner: DurableFunctionTestRunner, aws: FakeAWS) -> None:
    aws.ssm.parameters[THRESHOLD] = "900.00"
    set_waits(aws, approval=1, heartbeat=0, escalation=1)
    # 950 > 900 waits; meanwhile the threshold drops: nobody answered, and the current value rejects
    arn = start(runner, expense(amount="950.00"))
    runner.wait_for_callback(arn, name="approval", timeout=DEADLINE)
    aws.ssm.parameters[THRESHOLD] = "100.00"
    outcome = result_of(finish(runner, arn))
    assert outcome["reason"] == "NO_DECISION" and outcome["threshold"] == "100.00"


def test_policy_is_read_once_per_execution_not_per_replay(runner: DurableFunctionTestRunner, aws: FakeAWS) -> None:
    arn = start(runner, expense())
    callback_id = runner.wait_for_callback(arn, name="approval", timeout=DEADLINE)
    aws.lambda_.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"{}")
    finish(runner, arn)
    invocations = sum(1 for e in runner.get_execution_history(arn).events if e.event_type == "InvocationCompleted")
    assert invocations >= 2  # the handler replayed...
    assert aws.ssm.reads.count(TIMEOUTS) == 1  # ...but the durations were read once, in load-policy
    assert aws.ssm.reads.count(THRESHOLD) == 2  # in load-policy, and fresh in decide
    assert aws.secretsmanager.reads == [SECRET]  # once, inside notify-approver


def test_invalid_expense_fails_before_any_step(runner: DurableFunctionTestRunner, aws: FakeAWS) -> None:
    result = finish(runner, start(runner, {**expense(), "amount": "-5"}))
    assert result.status is InvocationStatus.FAILED
    assert "InvalidExpenseError" in str(result.error)
    assert result.operations == [] and aws.ssm.reads == []


def _wait_for_item(aws: FakeAWS, request_id: str, status: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        record = aws.dynamodb.items(TABLE).get(request_id)
        if record and record["status"]["S"] == status:
            return item(aws, request_id)
        time.sleep(0.02)
    pytest.fail(f"{request_id} never reached {status}: {aws.dynamodb.items(TABLE).get(request_id)}")
