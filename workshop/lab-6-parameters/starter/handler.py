"""Lab 6 — Parameters. This is the file you edit (a copy of it is kept in starter/).

An expense approval that may wait days for a person (services/approval_wait
holds the domain code: the approvals table, the notification signature, the
policy readers). This handler reads its configuration the way a plain Lambda
function does: at the start of the handler, straight from SSM Parameter Store
and Secrets Manager with boto3, and keeps what it read for later.

Run `make lab-6` to see what that does in a durable function, then follow
workshop/lab-6-parameters/README.md stage by stage.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aws_durable_execution_sdk_python import (
    CallbackExternalError,
    CallbackTimeoutError,
    DurableContext,
    StepContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_lambda_powertools.metrics import MetricUnit

from approval_wait import (  # the service's public names (approval_wait.__all__)
    APPROVAL_CALLBACK, APPROVER, DECIDE_STEP, ESCALATE_STEP, ESCALATION, ESCALATION_CALLBACK,
    LOAD_POLICY_STEP, NOTIFY_STEP, STEP_CONFIG, decode_answer, record_outcome,
    ApprovalOutcome, Expense, Reason, Status, parse_expense,
    annotate_execution, logger, metrics, tracer,
    approvals, clients, notification, settings,
)  # fmt: skip


@tracer.capture_method
# TODO (Part 1): Powertools Parameters with caching.
def read_policy() -> dict[str, Any]:
    """The approval policy: threshold and wait durations (SSM), notification token (Secrets Manager)."""
    ssm = clients.client("ssm")  # a boto3 client (the checks swap in fakes)
    secrets = clients.client("secretsmanager")
    return {
        "threshold": ssm.get_parameter(Name=settings.threshold_param())["Parameter"]["Value"],
        "waits": json.loads(ssm.get_parameter(Name=settings.timeouts_param())["Parameter"]["Value"]),
        "token": secrets.get_secret_value(SecretId=settings.notification_secret())["SecretString"],
    }


def ask(context: DurableContext, expense: Expense, stage: str, config: dict[str, Any]) -> dict[str, Any]:
    """Create the stage's callback, announce it (signed), wait for the answer or the timeout."""
    first = stage == APPROVER
    waits = config["waits"]
    timeout = waits["approval_seconds"] if first else waits["escalation_seconds"]
    heartbeat = waits["heartbeat_seconds"] if 0 < waits["heartbeat_seconds"] < timeout else 0
    callback = context.create_callback(
        name=APPROVAL_CALLBACK if first else ESCALATION_CALLBACK,
        config=CallbackConfig(timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat)),
    )
    execution_arn = context.execution_context.durable_execution_arn

    def announce(step: StepContext) -> dict[str, Any]:
        request = {
            "request_id": expense.request_id,
            "callback_id": callback.callback_id,
            "stage": stage,
            "employee": expense.employee,
            "amount": expense.amount_text(),
            "currency": expense.currency,
            "description": expense.description,
        }
        # TODO (Part 3): the secret never leaves the step that uses it.
        signature = notification.sign(request, token=config["token"])
        approvals.record_waiting(
            request_id=expense.request_id,
            callback_id=callback.callback_id,
            stage=stage,
            status=approvals.PENDING if first else approvals.ESCALATED,
            expense=request,
            execution_arn=execution_arn,
            signature=signature,
        )
        if not first:
            metrics.add_metric(name="ApprovalEscalated", unit=MetricUnit.Count, value=1)
        step.logger.info("Approval requested" if first else "Approval escalated",
                         extra={"request_id": expense.request_id, "callback_id": callback.callback_id, "stage": stage})
        # For the audit trail: the policy in force when the approver was asked.
        return {"stage": stage, "callback_id": callback.callback_id, "signature": signature, "policy": config}

    context.step(announce, name=NOTIFY_STEP if first else ESCALATE_STEP, config=STEP_CONFIG)

    try:
        answer = decode_answer(callback.result())
    except CallbackExternalError as error:
        return {"stage": stage, "answer": "rejected", "approver": None, "detail": error.message}
    except CallbackTimeoutError as error:
        return {"stage": stage, "answer": "timed_out", "approver": None, "detail": f"{error.error_type}: {error.message}"}
    return {"stage": stage, "answer": "approved", "approver": answer.get("approver"), "detail": answer.get("comment")}


def decide(context: DurableContext, expense: Expense, answer: dict[str, Any], escalated: bool, threshold: Decimal) -> ApprovalOutcome:
    """Step "decide": the answer, or with none the policy's threshold; mark the request decided."""

    def run(step: StepContext) -> dict[str, Any]:
        if answer["answer"] == "approved":
            status, reason, detail = Status.APPROVED, Reason.APPROVED, answer["detail"]
        elif answer["answer"] == "rejected":
            status, reason, detail = Status.REJECTED, Reason.REJECTED, answer["detail"]
        elif expense.amount <= threshold:
            status, reason = Status.APPROVED, Reason.THRESHOLD_RAISED
            detail = f"nobody answered; {expense.amount_text()} is within the current threshold {threshold}"
        else:
            status, reason = Status.REJECTED, Reason.NO_DECISION
            detail = f"nobody answered, not even after escalating ({answer['detail']})"
        outcome = ApprovalOutcome(
            request_id=expense.request_id, status=status, reason=reason,
            decided_by=answer["stage"] if answer["answer"] != "timed_out" else "policy",
            amount=expense.amount_text(), currency=expense.currency, threshold=str(threshold),
            escalated=escalated, approver=answer.get("approver"), detail=detail,
        )  # fmt: skip
        approvals.record_decision(expense.request_id, str(status), str(reason))
        step.logger.info("Expense decided", extra={"request_id": expense.request_id, "reason": str(reason), "threshold": str(threshold)})
        return outcome.to_dict()

    return ApprovalOutcome.from_dict(context.step(run, name=DECIDE_STEP, config=STEP_CONFIG))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@annotate_execution
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)
    expense = parse_expense(event)
    context.logger.info("Expense received", extra={"request_id": expense.request_id, "amount": expense.amount_text()})

    # TODO (Part 2): read the threshold inside the steps that use it.
    config = read_policy()  # the policy, read as the request comes in
    threshold = Decimal(config["threshold"])
    if expense.amount <= threshold:
        outcome = ApprovalOutcome(
            request_id=expense.request_id, status=Status.APPROVED, reason=Reason.BELOW_THRESHOLD, decided_by="policy",
            amount=expense.amount_text(), currency=expense.currency, threshold=str(threshold),
        )  # fmt: skip
    else:
        answer = ask(context, expense, APPROVER, config)
        escalated = answer["answer"] == "timed_out"
        if escalated:
            context.logger.warning("No answer from the approver: escalating", extra={"request_id": expense.request_id})
            answer = ask(context, expense, ESCALATION, config)
        outcome = decide(context, expense, answer, escalated, threshold)

    # Past this point nothing suspends: this code runs in exactly one invocation.
    record_outcome(outcome)
    context.logger.info("Expense decision", extra=outcome.to_dict())
    return outcome.to_dict()
