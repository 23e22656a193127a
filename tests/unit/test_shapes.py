"""workshop.inspect.shapes: a reply is checked against botocore's Lambda model as it is on the wire.

Each case is a reply AWS would send, then the same reply with one thing AWS
never sends; the checker must accept the first and name the second.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from workshop.inspect.shapes import ShapeError, all_problems, check_output, operation_for, output_problems

ARN = "arn:aws:lambda:us-east-1:000000000000:function:order-saga:1/durable-execution/o-1/3f1c9a52-7f50-4a43-9d7e-1b2c3d4e5f60"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:order-saga:1"


def history() -> dict[str, Any]:
    return {
        "Events": [
            {"EventType": "ExecutionStarted", "EventTimestamp": 1796173261.601, "EventId": 1, "Id": "3f1c9a52-7f50-4a43-9d7e-1b2c3d4e5f60", "Name": "o-1",
             "ExecutionStartedDetails": {"Input": {"Truncated": True}, "ExecutionTimeout": 900}},
            {"EventType": "StepSucceeded", "EventTimestamp": 1796173262.8, "EventId": 2, "SubType": "Step", "Id": "abc123", "Name": "reserve-inventory",
             "StepSucceededDetails": {"Result": {"Truncated": True}, "RetryDetails": {"CurrentAttempt": 2}}},
            {"EventType": "InvocationCompleted", "EventTimestamp": 1796173262.97, "EventId": 3,
             "InvocationCompletedDetails": {"StartTimestamp": 1796173261.7, "EndTimestamp": 1796173262.9, "RequestId": "r-1"}},
        ]
    }  # fmt: skip


def test_a_history_as_aws_sends_it_passes() -> None:
    assert all_problems("GetDurableExecutionHistory", history()) == []
    check_output("GetDurableExecutionHistory", history())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda h: h["Events"][1]["StepSucceededDetails"].pop("RetryDetails"), "required RetryDetails (StepSucceededDetails) is missing"),
        (lambda h: h["Events"][2].pop("InvocationCompletedDetails"), "has details [], expected exactly [InvocationCompletedDetails]"),
        (lambda h: h["Events"][0].update(EventType="ExecutionBegan"), "'ExecutionBegan' is not one of EventType's values"),
        (lambda h: h["Events"][1].update(Extra=1), "Event has no member Extra"),
        (lambda h: h["Events"][1].update(EventId="2"), "EventId must be an integer"),
        (lambda h: h["Events"][1].update(EventId=0), "0 is below EventId's minimum 1"),
        (lambda h: h["Events"][1].update(Id="has space"), "does not match OperationId's pattern"),
        (lambda h: h["Events"][1].update(EventTimestamp="2026-11-20T10:00:00Z"), "must be epoch seconds"),
        (lambda h: h["Events"][1]["StepSucceededDetails"]["RetryDetails"].update(CurrentAttempt=True), "AttemptCount must be an integer"),
        (lambda h: h["Events"][0]["ExecutionStartedDetails"]["Input"].update(Truncated="yes"), "Truncated must be a boolean"),
        (lambda h: h.update(Events={}), "Events must be a list"),
    ],
)
def test_what_aws_never_sends_is_named(change: Any, expected: str) -> None:
    reply = copy.deepcopy(history())
    change(reply)
    with pytest.raises(ShapeError, match="differs from botocore's lambda model") as raised:
        check_output("GetDurableExecutionHistory", reply)
    assert expected in str(raised.value)


def detail(**changes: Any) -> dict[str, Any]:
    return {"DurableExecutionArn": ARN, "DurableExecutionName": "o-1", "FunctionArn": FUNCTION_ARN, "Status": "SUCCEEDED",
            "StartTimestamp": 1796173261.6, "Version": "1", **changes}  # fmt: skip


def test_execution_arns_must_be_in_the_api_references_form() -> None:
    assert output_problems("GetDurableExecution", detail()) == []
    old = "9c31db14-ca50-4e46-b7ef-3d681a7d9ce8/f6150a62-350f-4df2-9224-a0ddcecc682f"
    assert "does not match DurableExecutionArn's pattern" in output_problems("GetDurableExecution", detail(DurableExecutionArn=old))[0]
    # an alias is not a version: the model allows $LATEST or a number there
    alias = ARN.replace("order-saga:1/", "order-saga:live/")
    assert output_problems("GetDurableExecution", detail(DurableExecutionArn=alias))
    assert output_problems("GetDurableExecution", detail(DurableExecutionArn=ARN + "/extra"))  # matched in full
    assert "required Status" in output_problems("GetDurableExecution", {k: v for k, v in detail().items() if k != "Status"})[0]


def test_invoke_is_checked_by_its_headers() -> None:
    assert output_problems("Invoke", None, {"X-Amz-Executed-Version": "1", "X-Amz-Durable-Execution-Arn": ARN}) == []
    problems = output_problems("Invoke", None, {"x-amz-executed-version": "live", "x-amz-durable-execution-arn": "a/b"})
    assert len(problems) == 2, problems
    assert "X-Amz-Executed-Version: 'live' does not match" in problems[0] and "X-Amz-Durable-Execution-Arn: 'a/b' does not match" in problems[1]


def test_operations_in_a_checkpoint_reply() -> None:
    reply = {"CheckpointToken": "dG9rZW4=", "NewExecutionState": {"Operations": [
        {"Id": "abc", "Type": "STEP", "Status": "PENDING", "StartTimestamp": 1796173261.6, "StepDetails": {"Attempt": 1, "NextAttemptTimestamp": 1796173263.0}},
    ]}}  # fmt: skip
    assert output_problems("CheckpointDurableExecution", reply) == []
    reply["NewExecutionState"]["Operations"][0]["Type"] = "TASK"
    assert "'TASK' is not one of OperationType's values" in output_problems("CheckpointDurableExecution", reply)[0]


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda/history?IncludeExecutionData=true", "GetDurableExecutionHistory"),
        ("GET", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda", "GetDurableExecution"),
        ("GET", "/2025-12-01/durable-executions/x/state", "GetDurableExecutionState"),
        ("POST", "/2025-12-01/durable-executions/x/checkpoint", "CheckpointDurableExecution"),
        ("POST", "/2025-12-01/durable-executions/x/stop", "StopDurableExecution"),
        ("GET", "/2025-12-01/functions/order-saga/durable-executions", "ListDurableExecutionsByFunction"),
        ("POST", "/2025-12-01/durable-execution-callbacks/abc=/heartbeat", "SendDurableExecutionCallbackHeartbeat"),
        ("POST", "/2015-03-31/functions/order-saga%3Alive/invocations", "Invoke"),
        ("GET", "/_workshop/health", None),
        ("DELETE", "/2025-12-01/durable-executions/x/history", None),
    ],
)
def test_requests_are_named_by_the_models_uris(method: str, path: str, operation: str | None) -> None:
    assert operation_for(method, path) == operation


def test_the_hosts_audit_records_each_checked_reply(tmp_path) -> None:
    import json

    from workshop.host.shape_audit import ShapeAudit, read

    audit = ShapeAudit(tmp_path / "audit.jsonl")
    arn = "/2025-12-01/durable-executions/x"
    audit.record("GET", arn + "/history?IncludeExecutionData=true", 200, json.dumps(history()).encode(), {})
    audit.record("GET", arn, 200, b'{"DurableExecutionArn": "a/b"}', {})
    audit.record("POST", "/2015-03-31/functions/f/invocations", 202, b"", {"X-Amz-Executed-Version": "live"})
    audit.record("GET", arn, 404, b'{"Type": "ResourceNotFoundException"}', {})  # errors are not checked
    audit.record("GET", "/_workshop/health", 200, b"{}", {})  # not a Lambda operation
    audit.record("GET", arn + "/history", 200, b"not json", {})
    records = read(tmp_path / "audit.jsonl")
    assert [(r["operation"], len(r["problems"])) for r in records] == [
        ("GetDurableExecutionHistory", 0), ("GetDurableExecution", 5), ("Invoke", 1), ("GetDurableExecutionHistory", 1),
    ]  # fmt: skip
    assert "not JSON" in records[-1]["problems"][0] and records[0]["path"] == arn + "/history"
