"""The order saga, every path, in-process: DurableFunctionTestRunner + AWS fakes (conftest.py).

What is asserted on each path: the saga's result, the durable operations it
recorded (names and order), the side effects in the fake tables, the order of
compensations, and that the outcome metrics are emitted once per execution
even when the handler ran in several invocations.

No sleeps: the runner skips durable waits and retry back-offs; the one real
wait is the 1-second warehouse callback timeout, which the runner keeps on a
real timer.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)

from order_saga import handler, payment, warehouse
from order_saga.errors import PaymentStateError
from order_saga.observability import metrics, tracer
from order_saga.seed import seed_inventory

INVENTORY = "inventory"
PAYMENTS = "payments"
PAYMENT_FUNCTION = "payment"
WAREHOUSE_FUNCTION = "warehouse"
TIMEOUT_PARAM = "/workshop/order-saga/warehouse-timeout-seconds"

# Each invocation that adds no metric (most replays) makes Powertools warn
# "No application metrics to publish": expected with durable functions.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# Generous deadlines: a run normally takes well under a second.
DEADLINE = 20

HAPPY_OPERATIONS = [
    "reserve-inventory",
    "charge-payment",
    "prepare-warehouse-request",
    "warehouse-confirmation",
    "notify-warehouse",
]

REFUND = ("dynamodb.update_item", PAYMENTS, "SET #status = :refunded")
RELEASE = ("dynamodb.update_item", INVENTORY, "SET #available = #available + :quantity")
TAKE = ("dynamodb.update_item", INVENTORY, "SET #available = #available - :quantity")


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def saga(aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[DurableFunctionTestRunner]:
    """A runner for the saga, the payment function registered for context.invoke, stock seeded."""
    for name, value in {
        "INVENTORY_TABLE": INVENTORY,
        "PAYMENTS_TABLE": PAYMENTS,
        "PAYMENT_FUNCTION": PAYMENT_FUNCTION,
        "WAREHOUSE_FUNCTION": WAREHOUSE_FUNCTION,
        "WAREHOUSE_TIMEOUT_PARAM": TIMEOUT_PARAM,
    }.items():
        monkeypatch.setenv(name, value)
    seed_inventory(INVENTORY, aws.dynamodb)
    aws.ssm.parameters[TIMEOUT_PARAM] = "30"
    aws.lambda_.register(WAREHOUSE_FUNCTION, warehouse.lambda_handler)
    aws.journal.clear()
    aws.dynamodb.calls.clear()
    metrics.clear_metrics()
    capsys.readouterr()  # start with an empty stdout: metric lines are counted from here

    runner = DurableFunctionTestRunner(handler=handler.lambda_handler, poll_interval=0.05)
    runner.register_function(PAYMENT_FUNCTION, payment.lambda_handler)
    aws.lambda_.runner = runner
    try:
        yield runner
    finally:
        runner.close()


# ------------------------------------------------------------------- helpers
def order(order_id: str = "o-1", items: list[dict] | None = None, **simulate: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_id": "c-42",
        "items": items if items is not None else [{"sku": "SKU-BOOK", "quantity": 2}],
        "amount": "39.98",
        "currency": "EUR",
        "simulate": simulate,
    }


def start(runner: DurableFunctionTestRunner, payload: dict[str, Any]) -> str:
    return runner.run_async(input=json.dumps(payload), execution_timeout=DEADLINE)


def finish(runner: DurableFunctionTestRunner, arn: str) -> DurableFunctionTestResult:
    return runner.wait_for_result(arn, timeout=DEADLINE)


def run(runner: DurableFunctionTestRunner, payload: dict[str, Any]) -> tuple[str, DurableFunctionTestResult]:
    arn = start(runner, payload)
    return arn, finish(runner, arn)


def saga_result(result: DurableFunctionTestResult) -> dict[str, Any]:
    assert result.status is InvocationStatus.SUCCEEDED, result.error
    assert result.result is not None
    return json.loads(result.result)


def top_level_names(result: DurableFunctionTestResult) -> list[str | None]:
    return [operation.name for operation in result.operations]


def child_names(result: DurableFunctionTestResult, context_name: str) -> list[str | None]:
    return [child.name for child in result.get_context(context_name).child_operations]


def invocation_count(runner: DurableFunctionTestRunner, arn: str) -> int:
    events = runner.get_execution_history(arn).events
    return sum(1 for event in events if event.event_type == "InvocationCompleted")


def emitted_metrics(stdout: str) -> dict[str, list[float]]:
    """Metric name -> every value emitted, from the EMF lines on stdout."""
    found: dict[str, list[float]] = defaultdict(list)
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Workshop"
        assert blob["service"] == "order-saga"
        for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[definition["Name"]]
            found[definition["Name"]].extend(value if isinstance(value, list) else [value])
    return dict(found)


def side_effects(journal: list[tuple], kinds: tuple[tuple, ...]) -> list[tuple]:
    """The journal entries matching (call, table, expression), in the order they happened."""
    picked = []
    for entry in journal:
        if entry[0] == "dynamodb.update_item":
            key = (entry[0], entry[1], entry[3])
            if key in kinds:
                picked.append(key)
    return picked


def stock(aws: Any, sku: str) -> int:
    return aws.dynamodb.value(INVENTORY, sku, "available")


def payment_field(aws: Any, order_id: str, field: str) -> Any:
    return aws.dynamodb.value(PAYMENTS, order_id, field)


# ---------------------------------------------------------------- happy path
def test_confirmed_order_completes(saga: DurableFunctionTestRunner, aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = run(saga, order("o-happy"))

    assert saga_result(result) == {
        "order_id": "o-happy",
        "status": "COMPLETED",
        "reason": None,
        "detail": None,
        "compensations": [],
        "payment_id": "pay-o-happy",
        "shipment_id": "ship-o-happy",
    }
    assert top_level_names(result) == HAPPY_OPERATIONS
    assert child_names(result, "charge-payment") == ["charge-payment-attempt-1"]
    # side effects: stock taken, card charged once, the warehouse asked asynchronously
    assert stock(aws, "SKU-BOOK") == 98
    assert payment_field(aws, "o-happy", "status") == "CHARGED"
    assert payment_field(aws, "o-happy", "amount") == "39.98"
    assert payment_field(aws, "o-happy", "attempts") == 1
    [handoff] = aws.lambda_.invocations
    assert handoff["FunctionName"] == WAREHOUSE_FUNCTION
    assert handoff["InvocationType"] == "Event"
    assert handoff["event"]["order_id"] == "o-happy"
    assert handoff["event"]["behaviour"] == "confirm"
    assert handoff["event"]["callback_id"] == result.get_callback("warehouse-confirmation").callback_id
    assert [answer for answer, _ in aws.lambda_.callback_answers] == ["success"]
    # the timeout parameter is read once, inside its step, not on every replay
    assert aws.ssm.reads == [TIMEOUT_PARAM]

    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["OrderPlaced"] == [1.0]
    assert emitted["OrderCompleted"] == [1.0]
    assert "OrderCompensated" not in emitted and "OrderRejected" not in emitted


def test_execution_arn_annotation_is_put_outside_the_durable_worker_thread(
    saga: DurableFunctionTestRunner, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the Tracer enabled in Lambda, put_annotation on the SDK's worker
    # thread ("dex-handler...") hits X-Ray's facade segment and raises, failing
    # the execution. The Tracer is disabled here, so spy on where it is called.
    calls: list[tuple[str, Any, str]] = []
    monkeypatch.setattr(
        tracer,
        "put_annotation",
        lambda key, value: calls.append((key, value, threading.current_thread().name)),
    )

    arn, result = run(saga, order("o-traced"))

    assert saga_result(result)["status"] == "COMPLETED"
    arns = [value for key, value, _ in calls if key == "execution_arn"]
    assert arns and set(arns) == {arn}
    assert len(arns) == invocation_count(saga, arn)  # every invocation's segment is annotated
    assert not [thread for _, _, thread in calls if thread.startswith("dex-handler")]


# ------------------------------------------------------------------- payment
def test_card_declined_releases_the_stock_only(saga: DurableFunctionTestRunner, aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = run(saga, order("o-declined", card_declined=True))

    outcome = saga_result(result)
    assert outcome["status"] == "COMPENSATED"
    assert outcome["reason"] == "CARD_DECLINED"
    assert "declined" in outcome["detail"]
    assert outcome["compensations"] == ["release-inventory"]
    assert outcome["payment_id"] is None
    assert top_level_names(result) == ["reserve-inventory", "charge-payment", "release-inventory"]
    # declined is final: one attempt, no retry
    assert child_names(result, "charge-payment") == ["charge-payment-attempt-1"]
    assert stock(aws, "SKU-BOOK") == 100
    assert payment_field(aws, "o-declined", "status") == "DECLINED"
    assert side_effects(aws.journal, (TAKE, RELEASE, REFUND)) == [TAKE, RELEASE]
    assert aws.lambda_.invocations == []  # the warehouse never heard of it

    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["OrderPlaced"] == [1.0]
    assert emitted["OrderCompensated"] == [1.0]
    assert "OrderCompleted" not in emitted


def test_transient_payment_errors_are_retried_then_charged(
    saga: DurableFunctionTestRunner, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, result = run(saga, order("o-flaky", transient_payment_errors=2))

    outcome = saga_result(result)
    assert outcome["status"] == "COMPLETED"
    assert outcome["payment_id"] == "pay-o-flaky"
    # each retry is a failed chained invoke, a durable back-off wait, and a new invoke
    assert child_names(result, "charge-payment") == [
        "charge-payment-attempt-1",
        "charge-payment-backoff-1",
        "charge-payment-attempt-2",
        "charge-payment-backoff-2",
        "charge-payment-attempt-3",
    ]
    attempts = {op.name: op.status.value for op in result.get_context("charge-payment").child_operations}
    assert attempts["charge-payment-attempt-1"] == "FAILED"
    assert attempts["charge-payment-attempt-3"] == "SUCCEEDED"
    assert payment_field(aws, "o-flaky", "attempts") == 3
    assert payment_field(aws, "o-flaky", "status") == "CHARGED"
    assert stock(aws, "SKU-BOOK") == 98

    # The handler ran many times (a suspension per invoke and per back-off) ...
    assert invocation_count(saga, arn) >= 6
    # ... yet every metric was emitted exactly once.
    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["OrderPlaced"] == [1.0]
    assert emitted["OrderCompleted"] == [1.0]


def test_payment_failing_for_good_releases_the_stock(saga: DurableFunctionTestRunner, aws: Any) -> None:
    # More transient failures than the saga's 5 attempts.
    _, result = run(saga, order("o-down", transient_payment_errors=9))

    outcome = saga_result(result)
    assert outcome["status"] == "COMPENSATED"
    assert outcome["reason"] == "PAYMENT_FAILED"
    assert outcome["compensations"] == ["release-inventory"]
    assert [n for n in child_names(result, "charge-payment") if n and "attempt" in n] == [
        f"charge-payment-attempt-{n}" for n in range(1, 6)
    ]
    assert payment_field(aws, "o-down", "attempts") == 5
    assert payment_field(aws, "o-down", "status") is None  # never charged
    assert stock(aws, "SKU-BOOK") == 100
    assert aws.lambda_.invocations == []


# ----------------------------------------------------------------- inventory
def test_out_of_stock_rejects_with_nothing_to_compensate(
    saga: DurableFunctionTestRunner, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = run(saga, order("o-rare", items=[{"sku": "SKU-RARE", "quantity": 1}]))

    assert saga_result(result) == {
        "order_id": "o-rare",
        "status": "REJECTED",
        "reason": "OUT_OF_STOCK",
        "detail": "SKU-RARE is out of stock",
        "compensations": [],
        "payment_id": None,
        "shipment_id": None,
    }
    assert top_level_names(result) == ["reserve-inventory"]
    assert stock(aws, "SKU-RARE") == 0
    assert aws.dynamodb.items(PAYMENTS) == {}
    assert aws.lambda_.invocations == []

    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["OrderPlaced"] == [1.0]
    assert emitted["OrderRejected"] == [1.0]
    assert "OrderCompensated" not in emitted


def test_partial_reservation_is_put_back_when_a_later_sku_is_out_of_stock(saga: DurableFunctionTestRunner, aws: Any) -> None:
    items = [{"sku": "SKU-BOOK", "quantity": 3}, {"sku": "SKU-MUG", "quantity": 51}]
    _, result = run(saga, order("o-mugs", items=items))

    outcome = saga_result(result)
    assert (outcome["status"], outcome["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert outcome["detail"] == "SKU-MUG is out of stock"
    assert stock(aws, "SKU-BOOK") == 100
    assert stock(aws, "SKU-MUG") == 50
    assert side_effects(aws.journal, (TAKE, RELEASE)) == [TAKE, RELEASE]  # the book, taken then put back


def test_simulated_out_of_stock_touches_no_table(saga: DurableFunctionTestRunner, aws: Any) -> None:
    _, result = run(saga, order("o-sim-oos", out_of_stock=True))

    outcome = saga_result(result)
    assert (outcome["status"], outcome["reason"], outcome["compensations"]) == ("REJECTED", "OUT_OF_STOCK", [])
    assert aws.journal == []


# ----------------------------------------------------------------- warehouse
def test_warehouse_rejection_refunds_then_releases(
    saga: DurableFunctionTestRunner, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = run(saga, order("o-reject", warehouse="reject"))

    outcome = saga_result(result)
    assert outcome["status"] == "COMPENSATED"
    assert outcome["reason"] == "WAREHOUSE_REJECTED"
    assert outcome["detail"] == "warehouse cannot ship order o-reject"
    assert outcome["compensations"] == ["refund-payment", "release-inventory"]
    assert outcome["payment_id"] == "pay-o-reject"
    # reverse order, in the history and in the side effects
    assert top_level_names(result) == [*HAPPY_OPERATIONS, "refund-payment", "release-inventory"]
    assert child_names(result, "refund-payment") == ["refund-payment-attempt-1"]
    assert side_effects(aws.journal, (TAKE, REFUND, RELEASE)) == [TAKE, REFUND, RELEASE]
    assert payment_field(aws, "o-reject", "status") == "REFUNDED"
    assert stock(aws, "SKU-BOOK") == 100
    assert [answer for answer, _ in aws.lambda_.callback_answers] == ["failure"]

    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["OrderPlaced"] == [1.0]
    assert emitted["OrderCompensated"] == [1.0]
    assert emitted["CompensationsRun"] == [2.0]
    assert "OrderCompleted" not in emitted


def test_silent_warehouse_times_out_then_refunds_and_releases(saga: DurableFunctionTestRunner, aws: Any) -> None:
    aws.ssm.parameters[TIMEOUT_PARAM] = "1"  # callback timeouts run on a real timer

    _, result = run(saga, order("o-silent", warehouse="silent"))

    outcome = saga_result(result)
    assert outcome["status"] == "COMPENSATED"
    assert outcome["reason"] == "WAREHOUSE_TIMEOUT"
    assert outcome["compensations"] == ["refund-payment", "release-inventory"]
    assert result.get_callback("warehouse-confirmation").status.value == "TIMED_OUT"
    assert side_effects(aws.journal, (TAKE, REFUND, RELEASE)) == [TAKE, REFUND, RELEASE]
    assert payment_field(aws, "o-silent", "status") == "REFUNDED"
    assert stock(aws, "SKU-BOOK") == 100
    assert aws.lambda_.callback_answers == []  # nobody answered


def test_manual_warehouse_is_answered_by_an_outside_actor(saga: DurableFunctionTestRunner, aws: Any) -> None:
    arn = start(saga, order("o-manual", warehouse="manual"))

    # What a human (or the workshop CLI) does: find the open callback by its
    # operation name in the execution history, then answer it.
    callback_id = saga.wait_for_callback(arn, name="warehouse-confirmation", timeout=DEADLINE)
    saga.send_callback_success(callback_id, json.dumps({"shipment_id": "ship-by-hand"}).encode())

    outcome = saga_result(finish(saga, arn))
    assert outcome["status"] == "COMPLETED"
    assert outcome["shipment_id"] == "ship-by-hand"
    assert aws.lambda_.callback_answers == []  # the warehouse function itself stayed quiet
    assert stock(aws, "SKU-BOOK") == 98


def test_failing_fulfilment_step_compensates(saga: DurableFunctionTestRunner, aws: Any) -> None:
    del aws.ssm.parameters[TIMEOUT_PARAM]  # the step that reads it fails, after its retries

    _, result = run(saga, order("o-noparam"))

    outcome = saga_result(result)
    assert outcome["status"] == "COMPENSATED"
    assert outcome["reason"] == "FULFILMENT_FAILED"
    assert outcome["compensations"] == ["refund-payment", "release-inventory"]
    assert aws.ssm.reads == [TIMEOUT_PARAM] * 3  # three attempts of the step
    assert aws.lambda_.invocations == []
    assert stock(aws, "SKU-BOOK") == 100


def test_warehouse_ignores_an_answer_the_callback_no_longer_takes(saga: DurableFunctionTestRunner, aws: Any) -> None:
    from aws_durable_execution_sdk_python_testing.invoker import create_test_lambda_context

    answer = warehouse.lambda_handler(
        {"callback_id": "not-a-callback", "order_id": "o-late", "behaviour": "confirm"},
        create_test_lambda_context(function_name=WAREHOUSE_FUNCTION),
    )
    assert answer["status"] == "IGNORED"


# ------------------------------------------------------------------- invalid
@pytest.mark.parametrize(
    ("payload", "mentions"),
    [
        ({**order(), "items": []}, "items"),
        (order(items=[{"sku": "SKU-BOOK", "quantity": 0}]), "items.0.quantity"),
        ({**order(), "currency": "euro"}, "currency"),
        (order(card_decline=True), "simulate.card_decline"),
        ({k: v for k, v in order().items() if k != "order_id"}, "order_id"),
        (order(items=[{"sku": "SKU-BOOK", "quantity": 1}, {"sku": "SKU-BOOK", "quantity": 2}]), "only once"),
    ],
    ids=["no-items", "zero-quantity", "bad-currency", "unknown-simulate-flag", "no-order-id", "duplicate-sku"],
)
def test_invalid_payload_fails_before_any_step(
    saga: DurableFunctionTestRunner,
    aws: Any,
    capsys: pytest.CaptureFixture[str],
    payload: dict[str, Any],
    mentions: str,
) -> None:
    _, result = run(saga, payload)

    assert result.status is InvocationStatus.FAILED
    assert result.error is not None
    assert (result.error.type or "").endswith("InvalidOrderError")
    assert result.error.message.startswith("invalid order: ")
    assert mentions in result.error.message
    assert result.operations == []  # not a single durable operation
    assert aws.journal == []  # no DynamoDB, SSM or Lambda call at all

    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted == {"OrderInvalid": [1.0]}


# ---------------------------------------------------- payment function alone
@pytest.fixture
def payments_env(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PAYMENTS_TABLE", PAYMENTS)
    return aws


def _call_payment(event: dict[str, Any]) -> dict[str, Any]:
    from aws_durable_execution_sdk_python_testing.invoker import create_test_lambda_context

    return payment.lambda_handler(event, create_test_lambda_context(function_name=PAYMENT_FUNCTION))


def test_payment_charge_and_refund_are_idempotent(payments_env: Any) -> None:
    charge = {"action": "charge", "order_id": "o-p", "amount": "10.00", "currency": "EUR"}
    first = _call_payment(charge)
    again = _call_payment(charge)
    assert first["status"] == again["status"] == "CHARGED"
    assert first["payment_id"] == again["payment_id"] == "pay-o-p"

    refunded = _call_payment({"action": "refund", "order_id": "o-p"})
    refunded_again = _call_payment({"action": "refund", "order_id": "o-p"})
    assert refunded["status"] == refunded_again["status"] == "REFUNDED"


def test_refund_without_a_charge_is_an_error(payments_env: Any) -> None:
    with pytest.raises(PaymentStateError):
        _call_payment({"action": "refund", "order_id": "o-never"})


class _TransientInvokeError(Exception):
    """What the chained invoke raises when the payment function reported a transient error."""

    error_type = "PaymentTransientError"


@pytest.mark.parametrize(("cap", "delays"), [(None, [1, 2, 4, 8]), ("30", [1, 2, 4, 8]), ("1", [1, 1, 1, 1]), ("2", [1, 2, 2, 2])])
def test_payment_backoffs_double_up_to_the_configured_cap(monkeypatch: pytest.MonkeyPatch, cap: str | None, delays: list[int]) -> None:
    """The labs cap the back-offs at 1 s (PAYMENT_RETRY_MAX_DELAY_S): the same retries, a second less waiting."""
    from order_saga.retries import PAYMENT_MAX_ATTEMPTS, transient_payment_retry

    if cap is None:
        monkeypatch.delenv("PAYMENT_RETRY_MAX_DELAY_S", raising=False)
    else:
        monkeypatch.setenv("PAYMENT_RETRY_MAX_DELAY_S", cap)
    decisions = [transient_payment_retry(_TransientInvokeError(), made) for made in range(1, PAYMENT_MAX_ATTEMPTS + 1)]
    assert [d.delay.seconds for d in decisions if d.should_retry] == delays
    assert not decisions[-1].should_retry
