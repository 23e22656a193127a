"""The result the saga returns: one JSON object, the same shape on every path.

    {
      "order_id": "o-123",
      "status": "COMPLETED" | "COMPENSATED" | "REJECTED",
      "reason": null | "OUT_OF_STOCK" | "CARD_DECLINED" | "PAYMENT_FAILED"
                | "WAREHOUSE_REJECTED" | "WAREHOUSE_TIMEOUT" | "FULFILMENT_FAILED",
      "detail": null | "human-readable explanation",
      "compensations": ["refund-payment", "release-inventory"],
      "payment_id": null | "pay-o-123",
      "shipment_id": null | "..."
    }

- COMPLETED: stock reserved, card charged, warehouse confirmed.
- REJECTED: the order was turned down before any side effect (out of stock);
  ``compensations`` is empty.
- COMPENSATED: something failed after a side effect; every completed step was
  undone, in reverse order, and ``compensations`` lists the undo operations in
  the order they ran.

A business failure is a *successful* execution with a COMPENSATED or REJECTED
result: the saga handled it. The execution itself fails only for an invalid
payload (InvalidOrderError) or when a compensation cannot be completed, the one
case a human has to look at.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    COMPLETED = "COMPLETED"
    COMPENSATED = "COMPENSATED"
    REJECTED = "REJECTED"


class Reason(StrEnum):
    OUT_OF_STOCK = "OUT_OF_STOCK"
    CARD_DECLINED = "CARD_DECLINED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    WAREHOUSE_REJECTED = "WAREHOUSE_REJECTED"
    WAREHOUSE_TIMEOUT = "WAREHOUSE_TIMEOUT"
    FULFILMENT_FAILED = "FULFILMENT_FAILED"


@dataclass
class SagaOutcome:
    order_id: str
    status: Status
    reason: Reason | None = None
    detail: str | None = None
    compensations: list[str] = field(default_factory=list)
    payment_id: str | None = None
    shipment_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready result (enums as plain strings)."""
        data = asdict(self)
        data["status"] = str(self.status)
        data["reason"] = str(self.reason) if self.reason else None
        return data
