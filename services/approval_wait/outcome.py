"""The result the approval function returns: one JSON object, the same shape on every path.

    {
      "request_id": "exp-1001",
      "status": "APPROVED" | "REJECTED",
      "reason": "BELOW_THRESHOLD" | "APPROVED" | "REJECTED" | "THRESHOLD_RAISED" | "NO_DECISION",
      "decided_by": "policy" | "approver" | "escalation",
      "escalated": false,
      "amount": "800.00",
      "currency": "EUR",
      "threshold": "500.00",
      "approver": null | "who answered",
      "detail": null | "the approver's comment, the rejection reason, or why the policy decided"
    }

- BELOW_THRESHOLD: the amount is at most the threshold read when the execution
  started; approved at once, nobody asked.
- APPROVED / REJECTED: a person answered (``decided_by`` says who was asked:
  the approver, or after a timeout the escalation).
- THRESHOLD_RAISED: nobody answered, but the threshold read *after* the wait
  now covers the amount: approved by policy.
- NO_DECISION: nobody answered, not even after escalating: rejected by policy.

``threshold`` is the value the decision used: read when the execution started
for BELOW_THRESHOLD, read again in the deciding step for every other reason.
A rejection is a *successful* execution with status REJECTED; the execution
fails only for an invalid payload or a step that fails for good.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Reason(StrEnum):
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    THRESHOLD_RAISED = "THRESHOLD_RAISED"
    NO_DECISION = "NO_DECISION"


@dataclass
class ApprovalOutcome:
    request_id: str
    status: Status
    reason: Reason
    decided_by: str
    amount: str
    currency: str
    threshold: str
    escalated: bool = False
    approver: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready result (enums as plain strings)."""
        data = asdict(self)
        data["status"] = str(self.status)
        data["reason"] = str(self.reason)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApprovalOutcome:
        return cls(**{**data, "status": Status(data["status"]), "reason": Reason(data["reason"])})
