"""Lab 6 — Parameters, solution: where a durable function reads its parameters and its secret.

- Stage 1: Powertools Parameters with caching (``approval_wait.policy``:
  ``SSMProvider`` / ``SecretsProvider`` ``.get(name, max_age=300)``) instead of a
  raw boto3 call in every invocation. Many executions in a warm environment
  share one read.
- Stage 2: the threshold is read *inside steps*: in ``load-policy`` when the
  execution starts (checkpointed, so every replay takes the same branch), and
  again in ``decide`` after the wait with ``fresh=True`` (``force_fetch``), so a
  threshold changed during the wait is the one applied, whatever the cache holds.
  Those two steps are the service's own ``load_policy`` and ``decide``
  (services/approval_wait/handler.py), imported rather than copied: what this
  stage asks for is exactly what the service does.
- Stage 3: the token never leaves ``notification.sign``, called inside the
  notify/escalate steps: their results (the checkpoints) hold the signature,
  never the token; nothing that returns the token is traced, logged or
  checkpointed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

from approval_wait import (  # the service's public names (approval_wait.__all__)
    APPROVER, ESCALATION, decide, load_policy, record_outcome,
    ApprovalOutcome, Expense, Reason, Status, parse_expense,
    annotate_execution, logger, metrics, tracer,
)  # fmt: skip
from approval_wait import ask as service_ask


def ask(context: DurableContext, expense: Expense, stage: str, waits: dict[str, int]) -> dict[str, Any]:
    """Create the stage's callback, announce it (signed), wait for the answer or the timeout.

    The service's ``ask`` does it the way stage 3 needs: ``notification.sign``
    reads the token and uses it inside the notify step, and the step returns
    only the signature, so the token is never checkpointed (compare the
    starter's notify step, which returns the policy, token included).
    """
    timeout = waits["approval_seconds"] if stage == APPROVER else waits["escalation_seconds"]
    return service_ask(context, expense, stage=stage, timeout_seconds=timeout, heartbeat_seconds=waits["heartbeat_seconds"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@annotate_execution
@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)
    expense = parse_expense(event)
    context.logger.info("Expense received", extra={"request_id": expense.request_id, "amount": expense.amount_text()})

    loaded = load_policy(context)  # checkpointed: the same value on every replay
    if expense.amount <= Decimal(loaded["threshold"]):
        outcome = ApprovalOutcome(
            request_id=expense.request_id, status=Status.APPROVED, reason=Reason.BELOW_THRESHOLD, decided_by="policy",
            amount=expense.amount_text(), currency=expense.currency, threshold=loaded["threshold"],
        )  # fmt: skip
    else:
        answer = ask(context, expense, APPROVER, loaded["waits"])
        escalated = answer["answer"] == "timed_out"
        if escalated:
            context.logger.warning("No answer from the approver: escalating", extra={"request_id": expense.request_id})
            answer = ask(context, expense, ESCALATION, loaded["waits"])
        outcome = decide(context, expense, answer, escalated)

    # Past this point nothing suspends: this code runs in exactly one invocation.
    record_outcome(outcome)
    context.logger.info("Expense decision", extra=outcome.to_dict())
    return outcome.to_dict()
