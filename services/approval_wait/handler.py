"""The approval wait: a durable function (handler ``approval_wait.handler.lambda_handler``).

Flow (operation names in quotes: fixed strings, the same on every replay)::

    validate the expense (Parser, before any step)   invalid -> execution FAILED, no side effect
    "load-policy"      step: threshold + wait durations from SSM (Powertools Parameters, cached)
        amount <= threshold -> APPROVED / BELOW_THRESHOLD, nothing else runs
    "approval"         callback: timeout = approval_seconds, heartbeat timeout = heartbeat_seconds
    "notify-approver"  step: sign the notification with the secret (Secrets Manager), record the
                       request in the approvals table (PENDING, the callback id) -> the CLI lists it
        answered -> "decide"
        timed out (no answer, or no heartbeat for too long) -> escalate ONCE:
    "escalation"       callback: timeout = escalation_seconds
    "escalate"         step: sign again, the table item now ESCALATED with the new callback id
    "decide"           step: re-read the threshold (fresh, not cached), apply the answer or, with
                       none, the policy (THRESHOLD_RAISED or NO_DECISION); mark the item decided

Each callback is created *before* the step that announces it, so an instant
answer finds it waiting. ``callback.result()`` suspends the execution (nothing
is billed while it waits, for days if need be) until it is answered or times out.

Where values are read (lab 6 changes only this module):

- the threshold and durations inside "load-policy": read once when the execution
  gets there, checkpointed, the same on every replay;
- the threshold again inside "decide": after a wait of days the current value
  applies (``fresh=True`` bypasses the Parameters cache);
- the secret only inside the notify/escalate steps, through ``notification.sign``,
  whose result is a signature: the token never reaches a checkpoint, a log
  line, a trace or a metric.

Powertools as the durable-functions page recommends: ``context.set_logger``
and ``context.logger`` (``step.logger`` in steps), ``annotate_execution`` outside
the durable handler, ``ApprovalEscalated`` added inside the escalate step and
the outcome metric after the last suspension (each once per execution).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_durable_execution_sdk_python import (
    CallbackExternalError,
    CallbackTimeoutError,
    DurableContext,
    StepContext,
    durable_execution,
)
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration, StepConfig
from aws_lambda_powertools.metrics import MetricUnit

from _shared.answers import answer_as_dict
from _shared.retries import step_retry
from approval_wait import approvals, notification, policy
from approval_wait.models import Expense, InvalidExpenseError, parse_expense
from approval_wait.observability import annotate_execution, logger, metrics, tracer
from approval_wait.outcome import ApprovalOutcome, Reason, Status

LOAD_POLICY_STEP = "load-policy"
APPROVAL_CALLBACK = "approval"
NOTIFY_STEP = "notify-approver"
ESCALATION_CALLBACK = "escalation"
ESCALATE_STEP = "escalate"
DECIDE_STEP = "decide"

APPROVER = "approver"
ESCALATION = "escalation"

# What `workshop reject` sends as the callback failure's ErrorType.
REJECTION_TYPE = "ExpenseRejected"

_OUTCOME_METRIC = {Status.APPROVED: "ExpenseApproved", Status.REJECTED: "ExpenseRejected"}

# Reading a parameter or writing the table: the shared few quick retries (_shared.retries).
STEP_CONFIG = StepConfig(retry_strategy=step_retry)


def load_policy(context: DurableContext) -> dict[str, Any]:
    """Step ``load-policy``: the threshold and the wait durations, as the execution starts."""

    def run(step: StepContext) -> dict[str, Any]:
        loaded = {"threshold": str(policy.threshold()), "waits": policy.wait_policy().to_dict()}
        step.logger.info("Approval policy loaded", extra=loaded)
        return loaded

    return context.step(run, name=LOAD_POLICY_STEP, config=STEP_CONFIG)


def decode_answer(result: Any) -> dict[str, Any]:
    """The approver's answer as a dict; a person may send any JSON, or plain text (kept as a comment)."""
    return answer_as_dict(result, "comment", scalars_as_text=True)


def ask(
    context: DurableContext,
    expense: Expense,
    *,
    stage: str,
    timeout_seconds: int,
    heartbeat_seconds: int,
) -> dict[str, Any]:
    """Create the stage's callback, announce it, wait. Returns the answer (never raises on a timeout).

    ``{"stage", "answer": "approved" | "rejected" | "timed_out", "approver", "detail"}``
    """
    first = stage == APPROVER
    # A heartbeat timeout only means something when it is shorter than the timeout itself.
    heartbeat = heartbeat_seconds if 0 < heartbeat_seconds < timeout_seconds else 0
    callback = context.create_callback(
        name=APPROVAL_CALLBACK if first else ESCALATION_CALLBACK,
        config=CallbackConfig(
            timeout=Duration.from_seconds(timeout_seconds),
            heartbeat_timeout=Duration.from_seconds(heartbeat),
        ),
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
        # The secret is read and used inside sign(); only the signature comes back.
        signature = notification.sign(request)
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
            # Inside the step: a completed step never runs again, so this counts once.
            metrics.add_metric(name="ApprovalEscalated", unit=MetricUnit.Count, value=1)
        step.logger.info(
            "Approval requested" if first else "Approval escalated",
            extra={"request_id": expense.request_id, "callback_id": callback.callback_id, "stage": stage,
                   "timeout_seconds": timeout_seconds, "heartbeat_seconds": heartbeat},
        )
        return {"stage": stage, "callback_id": callback.callback_id, "signature": signature}

    context.step(announce, name=NOTIFY_STEP if first else ESCALATE_STEP, config=STEP_CONFIG)

    try:
        answer = decode_answer(callback.result())
    except CallbackExternalError as error:
        return {"stage": stage, "answer": "rejected", "approver": None, "detail": error.message}
    except CallbackTimeoutError as error:
        # error_type says which: "Callback.Timeout" or "Callback.Heartbeat" (no heartbeat in time).
        return {"stage": stage, "answer": "timed_out", "approver": None, "detail": f"{error.error_type}: {error.message}"}
    return {
        "stage": stage,
        "answer": "approved",
        "approver": answer.get("approver"),
        "detail": answer.get("comment"),
    }


def decide(context: DurableContext, expense: Expense, answer: dict[str, Any], escalated: bool) -> ApprovalOutcome:
    """Step ``decide``: the answer, or the *current* threshold if nobody answered; mark the item decided."""

    def run(step: StepContext) -> dict[str, Any]:
        current = policy.threshold(fresh=True)  # after days of waiting: the value that applies now
        if answer["answer"] == "approved":
            status, reason, detail = Status.APPROVED, Reason.APPROVED, answer["detail"]
        elif answer["answer"] == "rejected":
            status, reason, detail = Status.REJECTED, Reason.REJECTED, answer["detail"]
        elif expense.amount <= current:
            status, reason = Status.APPROVED, Reason.THRESHOLD_RAISED
            detail = f"nobody answered; {expense.amount_text()} is within the current threshold {current}"
        else:
            status, reason = Status.REJECTED, Reason.NO_DECISION
            detail = f"nobody answered, not even after escalating ({answer['detail']})"
        outcome = ApprovalOutcome(
            request_id=expense.request_id,
            status=status,
            reason=reason,
            decided_by=answer["stage"] if answer["answer"] != "timed_out" else "policy",
            amount=expense.amount_text(),
            currency=expense.currency,
            threshold=str(current),
            escalated=escalated,
            approver=answer.get("approver"),
            detail=detail,
        )
        approvals.record_decision(expense.request_id, str(status), str(reason))
        step.logger.info("Expense decided", extra={"request_id": expense.request_id, "status": str(status),
                                                   "reason": str(reason), "threshold": str(current)})
        return outcome.to_dict()

    return ApprovalOutcome.from_dict(context.step(run, name=DECIDE_STEP, config=STEP_CONFIG))


def run_approval(context: DurableContext, expense: Expense) -> ApprovalOutcome:
    """Decide on the expense: at once below the threshold, else ask, escalate once, decide."""
    loaded = load_policy(context)
    threshold = Decimal(loaded["threshold"])
    if expense.amount <= threshold:
        return ApprovalOutcome(
            request_id=expense.request_id,
            status=Status.APPROVED,
            reason=Reason.BELOW_THRESHOLD,
            decided_by="policy",
            amount=expense.amount_text(),
            currency=expense.currency,
            threshold=loaded["threshold"],
        )
    waits = policy.WaitPolicy(**loaded["waits"])
    answer = ask(context, expense, stage=APPROVER, timeout_seconds=waits.approval_seconds, heartbeat_seconds=waits.heartbeat_seconds)
    escalated = answer["answer"] == "timed_out"
    if escalated:
        context.logger.warning("No answer from the approver: escalating", extra={"request_id": expense.request_id, "detail": answer["detail"]})
        answer = ask(context, expense, stage=ESCALATION, timeout_seconds=waits.escalation_seconds, heartbeat_seconds=waits.heartbeat_seconds)
    return decide(context, expense, answer, escalated)


def record_outcome(outcome: ApprovalOutcome) -> None:
    """The outcome metric. Call only after the last suspension: it must run once."""
    metrics.add_metric(name=_OUTCOME_METRIC[outcome.status], unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="request_id", value=outcome.request_id)
    metrics.add_metadata(key="reason", value=str(outcome.reason))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@annotate_execution
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)

    try:
        expense = parse_expense(event)
    except InvalidExpenseError as error:
        context.logger.error("Expense failed validation", extra={"error": str(error)})
        metrics.add_metric(name="ExpenseInvalid", unit=MetricUnit.Count, value=1)
        raise

    context.logger.info("Expense received", extra={"request_id": expense.request_id, "amount": expense.amount_text(), "currency": expense.currency})

    outcome = run_approval(context, expense)

    # Past this point nothing suspends: this code runs in exactly one invocation.
    record_outcome(outcome)
    result = outcome.to_dict()
    context.logger.info("Expense decision", extra=result)
    return result
