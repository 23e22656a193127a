"""The order saga's happy path on the live stack against the same handler in-process (the floor)."""

from __future__ import annotations

import json
import statistics
import time
import uuid

from workshop.config import StackConfig, boto3_client
from workshop.tools.bench.report import Report, ratio

SAGA_RUNS = 5
SAGA_ORDER = {"customer_id": "c-bench", "items": [{"sku": "SKU-BOOK", "quantity": 1}], "amount": "9.99",
              "currency": "EUR", "simulate": {"warehouse": "confirm"}}  # fmt: skip


def saga_live(config: StackConfig) -> float:
    lam = boto3_client("lambda", config)
    payload = {**SAGA_ORDER, "order_id": f"bench-{uuid.uuid4().hex[:10]}"}
    started = time.perf_counter()
    response = lam.invoke(FunctionName="order-saga:live", Payload=json.dumps(payload).encode())
    seconds = time.perf_counter() - started
    body = json.loads(response["Payload"].read())
    if response.get("FunctionError") or body.get("status") != "COMPLETED":
        raise SystemExit(f"the benchmark order did not complete on the live stack: {body}")
    return seconds


def saga_in_process() -> float:
    from order_saga.handler import lambda_handler

    from workshop.labs.harness.saga import run_saga

    started = time.perf_counter()
    order = {**SAGA_ORDER, "order_id": f"bench-{uuid.uuid4().hex[:10]}"}
    run = run_saga(lambda_handler, order, env={"POWERTOOLS_TRACE_DISABLED": "true"})  # no X-Ray sink in-process
    seconds = time.perf_counter() - started
    if run.status != "SUCCEEDED" or (run.result or {}).get("status") != "COMPLETED":
        raise SystemExit(f"the benchmark order did not complete in-process: {run.status} {run.result} {run.error}")
    return seconds


def bench_saga(config: StackConfig, report: Report) -> None:
    saga_live(config), saga_in_process()  # warm-up: workers started, modules imported
    live = [saga_live(config) for _ in range(SAGA_RUNS)]
    floor = [saga_in_process() for _ in range(SAGA_RUNS)]
    live_s, floor_s = statistics.median(live), statistics.median(floor)
    report.add(
        f"order saga happy path end to end, live stack (median of {SAGA_RUNS}, warm)",
        f"{live_s:.2f} s",
        f"{floor_s:.2f} s in-process (DurableFunctionTestRunner)",
        f"{live_s / floor_s:.1f}x",
    )
    report.figure("saga_live_over_inprocess", ratio(live_s, floor_s))
