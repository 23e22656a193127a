"""Every path of the order saga, through the function host, as a client on AWS would run it.

The saga's real functions (order-saga, payment, warehouse) run in worker
processes; the warehouse answers the callback through the Lambda API; the
durable runner replays the handler after every suspension.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.polling import finished, result_of, wait_for
from workshop.config import StackConfig, boto3_client
from workshop.inspect import Services, invocation_logs
from workshop.inspect.execution import load_timeline

pytestmark = pytest.mark.live

INVENTORY_TABLE = "workshop-InventoryTable"
TIMEOUT_PARAMETER = "/workshop/order-saga/warehouse-timeout-seconds"


def order(sku: str = "SKU-BOOK", quantity: int = 1, **simulate: Any) -> dict[str, Any]:
    return {
        "order_id": f"o-{uuid.uuid4().hex[:12]}",
        "customer_id": "c-live",
        "items": [{"sku": sku, "quantity": quantity}],
        "amount": "19.99",
        "currency": "EUR",
        "simulate": simulate,
    }


def start(lam, payload: dict[str, Any]) -> str:
    response = lam.invoke(FunctionName="order-saga:live", InvocationType="Event", Payload=json.dumps(payload).encode())
    assert response["StatusCode"] == 202
    return response["DurableExecutionArn"]


def history(lam, arn: str) -> list[dict[str, Any]]:
    return lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]


def available(dynamodb, sku: str) -> int:
    item = dynamodb.get_item(TableName=INVENTORY_TABLE, Key={"sku": {"S": sku}}, ConsistentRead=True)["Item"]
    return int(item["available"]["N"])


@pytest.fixture()
def lam(live_stack: StackConfig):
    return boto3_client("lambda", live_stack)


@pytest.fixture()
def dynamodb(live_stack: StackConfig):
    return boto3_client("dynamodb", live_stack)


def test_happy_path_completes_and_keeps_the_reservation(lam, dynamodb):
    before = available(dynamodb, "SKU-BOOK")
    result = result_of(finished(lam, start(lam, order(quantity=2))))
    assert result["status"] == "COMPLETED" and result["compensations"] == []
    assert result["payment_id"]
    assert available(dynamodb, "SKU-BOOK") == before - 2


def test_synchronous_invoke_returns_the_saga_result(lam):
    response = lam.invoke(FunctionName="order-saga:live", Payload=json.dumps(order()).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["status"] == "COMPLETED"


def test_card_declined_releases_the_stock(lam, dynamodb):
    before = available(dynamodb, "SKU-MUG")
    result = result_of(finished(lam, start(lam, order(sku="SKU-MUG", card_declined=True))))
    assert (result["status"], result["reason"]) == ("COMPENSATED", "CARD_DECLINED")
    assert result["compensations"] == ["release-inventory"]
    assert available(dynamodb, "SKU-MUG") == before


def test_transient_payment_errors_are_retried_then_charged(lam):
    arn = start(lam, order(transient_payment_errors=2))
    result = result_of(finished(lam, arn))
    assert result["status"] == "COMPLETED"
    # the retries are suspensions and re-invocations, visible in the history
    invocations = [e for e in history(lam, arn) if e["EventType"] == "InvocationCompleted"]
    assert len(invocations) >= 3


def test_the_sdk_recorder_says_the_reservation_was_replayed_and_the_step_ran_once(lam, live_stack):
    """The host's replay recorder (the SDK's plugin hooks), checked against what the step itself printed."""
    arn = start(lam, order(transient_payment_errors=1))
    result_of(finished(lam, arn))
    completed = sum(e["EventType"] == "InvocationCompleted" for e in history(lam, arn))
    services = Services(config=live_stack)
    entries = wait_for(
        lambda: (found := services.invocations(execution_arn=arn)) and len(found) >= completed and found,
        "every invocation in the host's index",
    )
    entries.sort(key=lambda e: e["start"])
    assert len(entries) >= 3 and all("replay" in e for e in entries)

    reserve = next(op for op in entries[1]["replay"]["operations"] if op["name"] == "reserve-inventory")
    assert (reserve["is_replayed"], reserve["ran"], reserve["status_at_start"]) == (True, False, "SUCCEEDED")
    # The SDK's own view: the step's function logged once, in invocation 1, and never again.
    logs, problems = invocation_logs(services, entries)
    assert problems == []
    printed_in = [n for n, e in enumerate(entries, 1) for line in logs[e["request_id"]] if "Inventory reservation done" in line]
    assert printed_in == [1]

    timeline, _ = load_timeline(services, arn)
    assert [i.replay_source for i in timeline.invocations] == ["recorder"] * len(entries)
    assert [i.ended_as for i in timeline.invocations] == ["PENDING"] * (len(entries) - 1) + ["SUCCEEDED"]
    assert [(op.name, op.confirmed) for op in timeline.invocations[1].replayed if op.name == "reserve-inventory"] == [
        ("reserve-inventory", True)
    ]
    assert not any(op.disagreement for inv in timeline.invocations for op in [*inv.replayed, *inv.ran, *inv.suspended_on])
    assert not [note for note in timeline.notes if "recorder" in note], timeline.notes


def test_out_of_stock_is_rejected_without_side_effects(lam, dynamodb):
    result = result_of(finished(lam, start(lam, order(sku="SKU-RARE"))))
    assert (result["status"], result["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert result["compensations"] == [] and result["payment_id"] is None
    assert available(dynamodb, "SKU-RARE") == 0


def test_warehouse_rejection_refunds_then_releases(lam, dynamodb):
    before = available(dynamodb, "SKU-BOOK")
    result = result_of(finished(lam, start(lam, order(warehouse="reject"))))
    assert (result["status"], result["reason"]) == ("COMPENSATED", "WAREHOUSE_REJECTED")
    assert result["compensations"] == ["refund-payment", "release-inventory"]
    assert available(dynamodb, "SKU-BOOK") == before


def test_silent_warehouse_times_out_and_compensates(lam, live_stack):
    """The callback timeout is a parameter read inside the step that uses it: shorten it here."""
    ssm = boto3_client("ssm", live_stack)
    previous = ssm.get_parameter(Name=TIMEOUT_PARAMETER)["Parameter"]["Value"]
    ssm.put_parameter(Name=TIMEOUT_PARAMETER, Value="2", Overwrite=True, Type="String")
    try:
        result = result_of(finished(lam, start(lam, order(warehouse="silent"))))
    finally:
        ssm.put_parameter(Name=TIMEOUT_PARAMETER, Value=previous, Overwrite=True, Type="String")
    assert (result["status"], result["reason"]) == ("COMPENSATED", "WAREHOUSE_TIMEOUT")
    assert result["compensations"] == ["refund-payment", "release-inventory"]


def pending_callback(lam, arn: str) -> str | None:
    events = history(lam, arn)
    done = {e.get("Id") for e in events if e["EventType"].startswith("Callback") and e["EventType"] != "CallbackStarted"}
    for event in events:
        if event["EventType"] == "CallbackStarted" and event.get("Id") not in done:
            return event["CallbackStartedDetails"]["CallbackId"]
    return None


def test_manual_warehouse_waits_for_a_callback_sent_by_a_person(lam):
    arn = start(lam, order(warehouse="manual"))
    callback_id = wait_for(lambda: pending_callback(lam, arn), "the saga to wait on the warehouse callback")
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps({"shipment_id": "ship-1"}).encode())
    result = result_of(finished(lam, arn))
    assert result["status"] == "COMPLETED"
    # the callback is closed now: answering it again is an error, not a second completion
    with pytest.raises(ClientError):
        lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=b"{}")


def test_invalid_order_fails_before_any_step(lam):
    arn = start(lam, {"order_id": "o-bad", "items": []})
    detail = finished(lam, arn)
    assert detail["Status"] == "FAILED"
    assert "customer_id" in json.dumps(detail["Error"])
    assert not [e for e in history(lam, arn) if e["EventType"].startswith("Step")]
