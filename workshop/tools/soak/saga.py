"""The order saga part of the soak: many orders at once, failures drawn at random, callbacks answered late or never.

Every order's flags are drawn (declined card, transient payment errors up to
exhausting the retries, out of stock, the warehouse confirming, rejecting,
staying silent, or "manual": the soak answers its callback itself at a random
time, success or failure, some after the callback's timeout, some never).
The warehouse timeout is set short in SSM for the soak (modelled seconds;
the runner's clock runs time_scale faster). The invariants afterwards:

- stock: for every SKU, stock at start = stock now + units of completed orders;
- money: for every order, charges - refunds = its amount if COMPLETED, else 0
  (the payments table's status: CHARGED counts the amount, REFUNDED nothing);
- every execution ended (SUCCEEDED or FAILED) within its ExecutionTimeout;
- compensations ran newest first: refund-payment before release-inventory,
  in the result and in the history.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from workshop import registry
from workshop.config import StackConfig, boto3_client
from workshop.tools.soak.ingest import percentile, _round

SKUS = ("SKU-BOOK", "SKU-MUG")
START_STOCK = 100_000
WAREHOUSE_TIMEOUT_MODELLED_S = 60
EXPECTED_COMPENSATIONS = {
    "CARD_DECLINED": ["release-inventory"], "PAYMENT_FAILED": ["release-inventory"],
    "WAREHOUSE_REJECTED": ["refund-payment", "release-inventory"], "WAREHOUSE_TIMEOUT": ["refund-payment", "release-inventory"],
    "FULFILMENT_FAILED": ["refund-payment", "release-inventory"],
}  # fmt: skip


def draw_order(rng: random.Random, run_id: str, n: int) -> dict[str, Any]:
    items = [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(SKUS, rng.randint(1, 2))]
    simulate = {
        "card_declined": rng.random() < 0.1,
        "transient_payment_errors": rng.choice((0, 0, 0, 1, 2, 5)),
        "out_of_stock": rng.random() < 0.1,
        "warehouse": rng.choice(("confirm", "confirm", "reject", "silent", "manual", "manual")),
    }
    amount = Decimal(rng.randint(100, 50_000)) / 100
    return {"order_id": f"{run_id}-{n:04d}", "customer_id": f"c-{n % 17}", "items": items, "amount": f"{amount:.2f}", "currency": "EUR", "simulate": simulate}


def callback_id(lam: Any, arn: str) -> str | None:
    events = lam.get_durable_execution_history(DurableExecutionArn=arn).get("Events", [])
    return next((e["CallbackStartedDetails"]["CallbackId"] for e in events if e.get("EventType") == "CallbackStarted" and e.get("Name") == "warehouse-confirmation"), None)


def soak_saga(config: StackConfig, orders: int, time_scale: float, deadline_s: float, seed: int = 14) -> dict[str, Any]:
    rng = random.Random(seed)
    env = registry.function(config, "order-saga")["environment"]
    dynamodb, ssm, lam = boto3_client("dynamodb", config), boto3_client("ssm", config), boto3_client("lambda", config)
    ssm.put_parameter(Name=env["WAREHOUSE_TIMEOUT_PARAM"], Value=str(WAREHOUSE_TIMEOUT_MODELLED_S), Type="String", Overwrite=True)
    for sku in SKUS:
        dynamodb.put_item(TableName=env["INVENTORY_TABLE"], Item={"sku": {"S": sku}, "available": {"N": str(START_STOCK)}})
    run_id = f"soak-{uuid.uuid4().hex[:6]}"
    payloads = [draw_order(rng, run_id, n) for n in range(orders)]
    timeout_real_s = WAREHOUSE_TIMEOUT_MODELLED_S / time_scale
    arns: dict[str, str] = {}
    started_at: dict[str, float] = {}
    ended_at: dict[str, float] = {}
    answers = {"answered": 0, "answered_late": 0, "never": 0}

    def start(payload: dict[str, Any]) -> None:
        started_at[payload["order_id"]] = time.monotonic()
        response = lam.invoke(FunctionName="order-saga:live", InvocationType="Event", Payload=json.dumps(payload).encode())
        arns[payload["order_id"]] = response["DurableExecutionArn"]

    threads = [threading.Thread(target=start, args=(p,)) for p in payloads]  # concurrently, as many clients would
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The manual ones: each answered at its own random time (up to 1.5 x the timeout: some too late), or never.
    plans = {p["order_id"]: (rng.uniform(0, 1.5 * timeout_real_s), rng.choice(("succeed", "fail", "never"))) for p in payloads if p["simulate"]["warehouse"] == "manual"}
    open_plans = dict(plans)
    details: dict[str, dict[str, Any]] = {}
    begin = time.monotonic()
    while len(details) < len(payloads) and time.monotonic() - begin < deadline_s:
        for order_id, arn in arns.items():
            if order_id in details:
                continue
            plan = open_plans.get(order_id)
            if plan and time.monotonic() - started_at[order_id] >= plan[0]:
                cid = callback_id(lam, arn)
                if cid is not None or plan[1] == "never":
                    open_plans.pop(order_id)
                    _answer(lam, cid, plan[1], answers, order_id)
            detail = lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
            if detail["Status"] != "RUNNING":
                details[order_id], ended_at[order_id] = detail, time.monotonic()
        time.sleep(0.2)
    seconds = time.monotonic() - begin
    return check(config, env, payloads, arns, details, started_at, ended_at, seconds, answers)


def _answer(lam: Any, cid: str | None, how: str, answers: dict[str, int], order_id: str) -> None:
    if how == "never" or cid is None:
        answers["never"] += 1
        return
    try:
        if how == "succeed":
            lam.send_durable_execution_callback_success(CallbackId=cid, Result=json.dumps({"shipment_id": f"ship-{order_id}"}).encode())
        else:
            lam.send_durable_execution_callback_failure(CallbackId=cid, Error={"ErrorType": "WarehouseRejected", "ErrorMessage": "soak says no"})
        answers["answered"] += 1
    except lam.exceptions.ClientError:  # the callback had already timed out: a late answer is refused
        answers["answered_late"] += 1


def check(config: StackConfig, env: dict[str, str], payloads: list[dict[str, Any]], arns: dict[str, str], details: dict[str, dict[str, Any]],
          started_at: dict[str, float], ended_at: dict[str, float], seconds: float, answers: dict[str, int]) -> dict[str, Any]:  # fmt: skip
    dynamodb, lam = boto3_client("dynamodb", config), boto3_client("lambda", config)
    timeout_s = int(registry.function(config, "order-saga")["durable"].get("ExecutionTimeout", 900))
    results = {oid: json.loads(d.get("Result") or "null") for oid, d in details.items() if d["Status"] == "SUCCEEDED"}
    completed = {oid for oid, r in results.items() if r and r.get("status") == "COMPLETED"}
    stock = {sku: int(dynamodb.get_item(TableName=env["INVENTORY_TABLE"], Key={"sku": {"S": sku}}, ConsistentRead=True)["Item"]["available"]["N"]) for sku in SKUS}
    units = {sku: sum(i["quantity"] for p in payloads if p["order_id"] in completed for i in p["items"] if i["sku"] == sku) for sku in SKUS}
    stock_wrong = [sku for sku in SKUS if START_STOCK != stock[sku] + units[sku]]
    money_wrong, money_twice, reverse_wrong = [], [], []
    for p in payloads:
        item = dynamodb.get_item(TableName=env["PAYMENTS_TABLE"], Key={"order_id": {"S": p["order_id"]}}, ConsistentRead=True).get("Item", {})
        net = Decimal(item["amount"]["N"]) if item.get("status", {}).get("S") == "CHARGED" else Decimal(0)
        owed = Decimal(p["amount"]) if p["order_id"] in completed else Decimal(0)
        if net < owed:
            money_wrong.append(p["order_id"])  # lost: a completed order not charged
        elif net > owed:
            money_twice.append(p["order_id"])  # duplicated: charged and not refunded
        result = results.get(p["order_id"]) or {}
        expected = EXPECTED_COMPENSATIONS.get(result.get("reason") or "", [])
        if result.get("status") == "COMPENSATED" and (result.get("compensations") != expected or not _reversed_in_history(lam, arns[p["order_id"]], expected)):
            reverse_wrong.append(p["order_id"])
    unended, overdue = not_ended(arns, details), over_timeout(details, timeout_s)
    latencies = [ended_at[oid] - started_at[oid] for oid in ended_at]
    statuses = outcome_counts(results, details)
    return {
        "orders": len(payloads), "seconds": round(seconds, 1), "orders_per_s": round(len(payloads) / seconds, 2),
        "latency_p50_s": _round(percentile(latencies, 0.5)), "latency_p99_s": _round(percentile(latencies, 0.99)),
        "outcomes": statuses, "callbacks": answers,
        "lost": len(money_wrong) + len(stock_wrong), "duplicated": len(money_twice), "stuck": len(unended) + len(overdue) + len(reverse_wrong),
        "detail": {"stock_wrong": stock_wrong, "charge_missing": money_wrong[:20], "charge_not_refunded": money_twice[:20], "not_ended": unended[:20], "over_timeout": overdue[:20], "compensation_order_wrong": reverse_wrong[:20]},
    }  # fmt: skip


def not_ended(arns: dict[str, str], details: dict[str, dict[str, Any]]) -> list[str]:
    """The ids whose execution did not end (SUCCEEDED or FAILED) before the part's deadline."""
    return [key for key in arns if details.get(key, {}).get("Status") not in ("SUCCEEDED", "FAILED")]


def over_timeout(details: dict[str, dict[str, Any]], timeout_s: float) -> list[str]:
    """The ids whose execution took longer than its ExecutionTimeout, in modelled seconds."""
    return [key for key, detail in details.items() if modelled_s(detail) > timeout_s]


def outcome_counts(results: dict[str, Any], details: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Results counted by "status/reason", and the executions that FAILED."""
    counts: dict[str, int] = {}
    for result in results.values():
        key = f"{result.get('status')}/{result.get('reason')}" if result else "null"
        counts[key] = counts.get(key, 0) + 1
    counts["FAILED executions"] = sum(1 for d in details.values() if d["Status"] == "FAILED")
    return counts


def _reversed_in_history(lam: Any, arn: str, expected: list[str]) -> bool:
    events = lam.get_durable_execution_history(DurableExecutionArn=arn).get("Events", [])
    names = [e.get("Name") for e in events if e.get("EventType", "").endswith("Started")]
    firsts = [names.index(name) for name in expected if name in names]
    return len(firsts) == len(expected) and firsts == sorted(firsts)


def modelled_s(detail: dict[str, Any]) -> float:
    start, end = detail.get("StartTimestamp"), detail.get("EndTimestamp")
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return 0.0
    return (end - start).total_seconds()
