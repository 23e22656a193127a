"""A durable API call through the function host against the same call to the runner directly.

Its own module because it is the one figure about the host's proxying, with
its own clients and timing loop; nothing else in the bench uses them.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any

from workshop.config import StackConfig, boto3_client
from workshop.tools.bench.report import Report, ratio

API_CALLS = 200
API_WARMUP_CALLS = 10


def _runner_lambda_client(config: StackConfig) -> Any:
    """A Lambda client on the durable runner itself: boto3_client's settings, only the endpoint differs."""
    return boto3_client("lambda", dataclasses.replace(config, function_host=config.runner_host, host_port=config.runner_port))


def _call_ms(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def bench_api_call(config: StackConfig, report: Report) -> None:
    """ListDurableExecutionsByFunction through the function host and to the runner directly.

    The host answers the durable APIs by forwarding them to the runner, so the
    difference is what the host adds to every call the SDK, the CLI and the
    labs make. The two are timed alternately, call by call, so that a noisy
    moment on the machine costs both sides alike.
    """
    clients = {"host": boto3_client("lambda", config), "runner": _runner_lambda_client(config)}
    counts = set()
    for client in clients.values():  # warm-up: connections open, endpoints and models loaded
        for _ in range(API_WARMUP_CALLS):
            response = client.list_durable_executions_by_function(FunctionName="ingest")
        counts.add(len(response.get("DurableExecutions", [])))
    if len(counts) != 1:
        raise SystemExit(f"the host and the runner list different executions of ingest: {sorted(counts)}")
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(API_CALLS):
        for name, client in clients.items():
            times[name].append(_call_ms(lambda client=client: client.list_durable_executions_by_function(FunctionName="ingest")))
    host, runner = statistics.median(times["host"]), statistics.median(times["runner"])
    report.add(
        f"durable API call through the function host (ListDurableExecutionsByFunction, p50 of {API_CALLS}, warm client)",
        f"{host:.2f} ms",
        f"{runner:.2f} ms to the runner directly",
        f"{host / runner:.2f}x",
    )
    report.figure("host_call_over_runner_call", ratio(host, runner))
