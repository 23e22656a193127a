"""The order saga's metrics, read back from CloudWatch Logs the way `workshop metrics` does.

A payment that fails twice makes the saga suspend and replay several times;
`OrderPlaced` (added inside the reservation step) and `OrderCompleted` (added
after the last suspension) must still be counted once for the execution.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from workshop.config import StackConfig, boto3_client
from workshop.inspect.metrics import MetricsReport, metrics_for_execution

pytestmark = pytest.mark.live

SERVICE = {"service": "order-saga"}


def order(**simulate: Any) -> dict[str, Any]:
    return {
        "order_id": f"o-{uuid.uuid4().hex[:12]}",
        "customer_id": "c-metrics",
        "items": [{"sku": "SKU-BOOK", "quantity": 1}],
        "amount": "19.99",
        "currency": "EUR",
        "simulate": simulate,
    }


def poll(read, ready, what: str, deadline_s: float = 60.0, interval: float = 0.1):
    """read() until ready(value); fail with `what` and the last value at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = read()
        if ready(value):
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {deadline_s:.0f} s waiting for {what}; last: {value!r}")
        time.sleep(interval)


def invocation_count(lam, arn: str) -> int:
    events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    return sum(1 for e in events if e["EventType"] == "InvocationCompleted")


def test_metrics_of_a_replayed_execution_count_once(live_stack: StackConfig) -> None:
    lam = boto3_client("lambda", live_stack)
    # A synchronous invoke of a durable function returns when the execution ends.
    response = lam.invoke(FunctionName="order-saga:live", Payload=json.dumps(order(transient_payment_errors=2)).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["status"] == "COMPLETED"
    arn = response["DurableExecutionArn"]
    assert invocation_count(lam, arn) >= 3  # the retries were suspensions and re-invocations

    def complete(report: MetricsReport) -> bool:
        return len(report.invocations) >= 3 and all(i.has_logs for i in report.invocations) and bool(report.find("OrderCompleted"))

    report = poll(lambda: metrics_for_execution(live_stack, arn), complete, f"the metrics of {arn}")

    assert report.problems == []
    (placed,) = report.find("OrderPlaced", "Workshop", **SERVICE)
    (completed,) = report.find("OrderCompleted", "Workshop", **SERVICE)
    assert (placed.sum, placed.data_points, placed.unit) == (1.0, 1, "Count")
    assert (completed.sum, completed.data_points, completed.unit) == (1.0, 1, "Count")
    # Once per execution although the handler ran several times: the step's metric in the first
    # invocation, the outcome's in the last; the replays in between added nothing.
    numbers = {i.request_id: i.number for i in report.invocations}
    assert [numbers[r] for r in placed.per_invocation] == [1]
    assert [numbers[r] for r in completed.per_invocation] == [len(report.invocations)]
    assert report.silent and all(1 < i.number < len(report.invocations) for i in report.silent)
    assert not report.find("OrderCompensated") and not report.find("OrderRejected")
