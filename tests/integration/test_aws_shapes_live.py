"""Every reply of the function host validates against botocore's Lambda model, on a live private stack.

The stack's host runs with WORKSHOP_SHAPE_AUDIT (workshop/host/shape_audit.py):
each 2xx reply it sends (to clients, and to the SDK inside the workers:
checkpoints, state pages) is checked by workshop.inspect.shapes against the
model's output shape of its operation and written to a file. The paths driven
here are the order saga's happy and compensating paths, a saga stopped while
it waits, the ingest batch (accepted, duplicate and rejected messages), the
approval wait (answered with callback success, failure and a heartbeat), and
a test function whose step succeeds on its third attempt. Then every
execution's history, detail and listing is read (with and without execution
data, and paged), so every event of every path passes through the audit.

The ARNs and versions are checked as AWS gives them: an invoke of `fn:live`
reports ExecutedVersion "1", and the execution's ARN is
arn:aws:lambda:<region>:<account>:function:<name>:1/durable-execution/<name>/<id>.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.handlers import retried_step
from tests.integration.conftest import make_config, running_stack
from tests.integration.polling import finished, result_of, wait_for
from workshop import registry as function_registry
from workshop.config import ACCOUNT_ID, REGION, StackConfig, boto3_client
from workshop.host.shape_audit import ENV_VAR, read
from workshop.runner.aws_shapes import split_execution_arn
from workshop.tools.ingest_tools import sqs_event, valid_record

pytestmark = pytest.mark.live



@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackConfig, Path]]:
    audit = tmp_path_factory.mktemp("audit") / "replies.jsonl"
    with running_stack(make_config(tmp_path_factory.mktemp("shapes-stack")), {ENV_VAR: str(audit)}) as config:
        code_dir = tmp_path_factory.mktemp("retried-step")
        shutil.copy(retried_step.__file__, code_dir / "retried_step.py")
        function_registry.update(
            config,
            lambda registry: registry["functions"].update(
                {
                    "test-retried-step": {
                        "code_dir": str(code_dir), "handler": "retried_step.handler", "runtime": "python3.13", "timeout": 10,
                        "memory": 128, "environment": {}, "durable": {"ExecutionTimeout": 60, "RetentionPeriodInDays": 1},
                        "aliases": ["live"], "log_group": "/aws/lambda/test-retried-step",
                    }  # fmt: skip
                }
            ),
        )
        yield config, audit


def order(**simulate: Any) -> bytes:
    body = {"order_id": f"o-{uuid.uuid4().hex[:12]}", "customer_id": "c-shapes", "items": [{"sku": "SKU-BOOK", "quantity": 1}],
            "amount": "19.99", "currency": "EUR", "simulate": simulate}  # fmt: skip
    return json.dumps(body).encode()


def start(lam: Any, function: str, payload: bytes, **kwargs: Any) -> str:
    response = lam.invoke(FunctionName=function, InvocationType="Event", Payload=payload, **kwargs)
    assert response["StatusCode"] == 202
    return response["DurableExecutionArn"]


def approval_record(config: StackConfig, request_id: str) -> dict[str, Any] | None:
    table = function_registry.function(config, "approval-wait")["environment"]["APPROVALS_TABLE"]
    item = boto3_client("dynamodb", config).get_item(TableName=table, Key={"request_id": {"S": request_id}}, ConsistentRead=True).get("Item")
    return {k: next(iter(v.values())) for k, v in item.items()} if item else None


def expense(amount: str) -> dict[str, Any]:
    return {"request_id": f"exp-{uuid.uuid4().hex[:10]}", "employee": "ana", "amount": amount, "currency": "EUR", "description": "shapes"}


def read_everything(lam: Any, arns: list[str], functions: list[str]) -> Counter[str]:
    """Every read a client makes: details, listings, histories (both data modes, and paged). The event types seen."""
    seen: Counter[str] = Counter()
    for function in functions:
        for page in lam.get_paginator("list_durable_executions_by_function").paginate(FunctionName=function, PaginationConfig={"PageSize": 2}):
            assert page["DurableExecutions"] is not None
    for arn in arns:
        lam.get_durable_execution(DurableExecutionArn=arn)
        lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
        lam.get_durable_execution_history(DurableExecutionArn=arn)
        for page in lam.get_paginator("get_durable_execution_history").paginate(
            DurableExecutionArn=arn, IncludeExecutionData=True, PaginationConfig={"PageSize": 5}
        ):
            seen.update(event["EventType"] for event in page["Events"])
    return seen


def saga_log_lines(config: StackConfig, arn: str) -> list[dict[str, Any]]:
    """The order saga's JSON log lines that name an execution ARN, as shipped to CloudWatch Logs."""
    group = function_registry.function(config, "order-saga")["log_group"]
    found = []
    for page in boto3_client("logs", config).get_paginator("filter_log_events").paginate(logGroupName=group):
        for event in page["events"]:
            if event["message"].startswith("{") and "executionArn" in event["message"]:
                found.append(json.loads(event["message"]))
    return [line for line in found if line["executionArn"] == arn]


def test_every_reply_matches_the_model_and_arns_are_aws_shaped(audited: tuple[StackConfig, Path]) -> None:
    config, audit = audited
    lam = boto3_client("lambda", config)
    arns: list[str] = []

    # The saga, happy path, synchronously through the alias: ExecutedVersion and the ARN as on AWS.
    response = lam.invoke(FunctionName="order-saga:live", Payload=order())
    assert "FunctionError" not in response and json.loads(response["Payload"].read())["status"] == "COMPLETED"
    assert response["ExecutedVersion"] == "1"
    happy = response["DurableExecutionArn"]
    parts = split_execution_arn(happy)
    assert parts is not None, happy
    detail = lam.get_durable_execution(DurableExecutionArn=happy)
    assert (parts["region"], parts["account"], parts["function"], parts["version"]) == (REGION, ACCOUNT_ID, "order-saga", "1")
    assert parts["name"] == detail["DurableExecutionName"]
    assert (detail["Version"], detail["FunctionArn"]) == ("1", f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:order-saga:1")
    started = lam.get_durable_execution_history(DurableExecutionArn=happy)["Events"][0]
    assert started["EventType"] == "ExecutionStarted" and started["Id"] == parts["id"]  # the SDK reads the EXECUTION operation's id there
    arns.append(happy)

    # Compensating path, started by version number and by name; a saga stopped while it waits for the warehouse.
    name = f"declined-{uuid.uuid4().hex[:8]}"
    declined = start(lam, "order-saga:1", order(card_declined=True), DurableExecutionName=name)
    assert split_execution_arn(declined)["name"] == name
    waiting = start(lam, "order-saga:$LATEST", order(warehouse="manual"))
    assert split_execution_arn(waiting)["version"] == "$LATEST"
    arns += [declined, waiting]

    # Ingest: one batch with two valid records, a duplicate and a malformed body.
    run = f"shapes-{uuid.uuid4().hex[:6]}"
    first = json.dumps(valid_record(run, 1))
    batch = lam.invoke(FunctionName="ingest:live", Payload=json.dumps(sqs_event([first, json.dumps(valid_record(run, 2)), first, "not json"])).encode())
    assert "FunctionError" not in batch, batch["Payload"].read()
    assert len(json.loads(batch["Payload"].read())["batchItemFailures"]) == 1
    arns.append(batch["DurableExecutionArn"])

    # Approval: one below the threshold, one approved (with a heartbeat first), one rejected.
    small = start(lam, "approval-wait:live", json.dumps(expense("99.00")).encode())
    approved_request, rejected_request = expense("2500.00"), expense("3000.00")
    approved = start(lam, "approval-wait:live", json.dumps(approved_request).encode())
    rejected = start(lam, "approval-wait:live", json.dumps(rejected_request).encode())
    arns += [small, approved, rejected]
    approve = wait_for(lambda: approval_record(config, approved_request["request_id"]), "the approval request to be recorded")
    reject = wait_for(lambda: approval_record(config, rejected_request["request_id"]), "the second request to be recorded")
    lam.send_durable_execution_callback_heartbeat(CallbackId=approve["callback_id"])
    lam.send_durable_execution_callback_success(CallbackId=approve["callback_id"], Result=json.dumps({"approver": "bo"}).encode())
    lam.send_durable_execution_callback_failure(CallbackId=reject["callback_id"], Error={"ErrorType": "ExpenseRejected", "ErrorMessage": "no"})

    # A step that succeeds on its third attempt.
    retried = start(lam, "test-retried-step:live", b"{}")
    arns.append(retried)

    # Stop the waiting saga once its callback is out.
    wait_for(
        lambda: any(e["EventType"] == "CallbackStarted" for e in lam.get_durable_execution_history(DurableExecutionArn=waiting)["Events"]),
        "the manual saga to wait on the warehouse",
    )
    lam.stop_durable_execution(DurableExecutionArn=waiting, Error={"ErrorType": "Stopped", "ErrorMessage": "shapes test"})

    assert result_of(finished(lam, declined))["status"] == "COMPENSATED"
    assert finished(lam, waiting)["Status"] == "STOPPED"
    assert result_of(finished(lam, small))["reason"] == "BELOW_THRESHOLD"
    assert result_of(finished(lam, approved))["status"] == "APPROVED"
    assert result_of(finished(lam, rejected))["status"] == "REJECTED"
    assert result_of(finished(lam, retried)) == {"succeeded_on": 3}

    # RetryDetails as on AWS: attempts 1 and 2 failed, attempt 3 succeeded.
    events = lam.get_durable_execution_history(DurableExecutionArn=retried)["Events"]
    attempts = [(e["EventType"], (e.get("StepFailedDetails") or e.get("StepSucceededDetails") or {}).get("RetryDetails", {}).get("CurrentAttempt"))
                for e in events if e["EventType"] in ("StepFailed", "StepSucceeded")]  # fmt: skip
    assert attempts == [("StepFailed", 1), ("StepFailed", 2), ("StepSucceeded", 3)], attempts

    # Every ARN any listing returns is AWS-shaped, and the reads go through the audit.
    listed = [row["DurableExecutionArn"] for f in ("order-saga", "ingest", "approval-wait") for row in lam.list_durable_executions_by_function(FunctionName=f)["DurableExecutions"]]
    assert set(arns) - {retried} <= set(listed) and all(split_execution_arn(arn) for arn in listed), listed
    seen = read_everything(lam, arns, ["order-saga", "ingest", "approval-wait", "test-retried-step"])

    # The paths covered the event types they should (so the audit saw them), and no reply differed from the model.
    expected = {"ExecutionStarted", "ExecutionSucceeded", "ExecutionStopped", "StepStarted", "StepSucceeded", "StepFailed", "ContextStarted",
                "ContextSucceeded", "ChainedInvokeStarted", "ChainedInvokeSucceeded", "ChainedInvokeFailed", "CallbackStarted",
                "CallbackSucceeded", "CallbackFailed", "InvocationCompleted"}  # fmt: skip
    assert expected <= set(seen), expected - set(seen)
    records = read(audit)
    by_operation = Counter(record["operation"] for record in records)
    for operation in ("Invoke", "GetDurableExecution", "GetDurableExecutionHistory", "ListDurableExecutionsByFunction", "CheckpointDurableExecution",
                      "SendDurableExecutionCallbackSuccess", "SendDurableExecutionCallbackFailure", "SendDurableExecutionCallbackHeartbeat",
                      "StopDurableExecution"):  # fmt: skip
        assert by_operation[operation], f"the audit saw no {operation} reply: {dict(by_operation)}"
    # The SDK's logger writes the same ARN (lab 1's Logs Insights query filters on it); the START line names version 1.
    lines = wait_for(lambda: saga_log_lines(config, happy), "the happy saga's log lines in CloudWatch Logs")
    assert {line.get("execution_arn", happy) for line in lines} == {happy}
    group = function_registry.function(config, "order-saga")["log_group"]
    starts = {e["message"].split("Version: ")[-1] for e in boto3_client("logs", config).filter_log_events(logGroupName=group, filterPattern="START")["events"]}
    assert "1" in starts, starts

    problems = [problem for record in records for problem in record["problems"]]
    print(f"\naudited {len(records)} replies ({dict(by_operation)}); {sum(seen.values())} history events read; {len(problems)} problems")
    assert not problems, "\n".join(dict.fromkeys(problems))
