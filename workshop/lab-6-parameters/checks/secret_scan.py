"""Where lab 6 looks for the secret's value in a live execution: history, logs, metrics, traces."""

from __future__ import annotations

import json
import time
from typing import Any


def stack_secret(config: Any, base_function: str) -> str:
    """The notification token the stack's provisioner generated (the secret the function signs with)."""
    from workshop import registry
    from workshop.config import boto3_client

    secret_id = registry.function(config, base_function)["environment"]["APPROVER_SECRET"]
    return boto3_client("secretsmanager", config).get_secret_value(SecretId=secret_id)["SecretString"]


def _segments(config: Any, run: Any, wait_s: float = 5.0) -> list[dict[str, Any]]:
    """The X-Ray documents of the execution's invocations (UDP: the last ones may still be on their way)."""
    from workshop.inspect import Services
    from workshop.inspect.traces import fetch_segments

    request_ids = [entry["request_id"] for entry in Services(config=config).invocations(execution_arn=run.arn)]
    deadline = time.monotonic() + wait_s
    while True:
        # Traces of the execution: by the execution_arn annotation on `## lambda_handler`, and by the
        # request ids on the function segments the host emits (found even if the annotation is gone).
        found = fetch_segments(config, execution_arn=run.arn) + fetch_segments(config, request_id=request_ids)
        documents = list({(d["trace_id"], d["id"]): d for d in found}.values())
        traces = {d["trace_id"] for d in documents}
        if len(traces) >= len(request_ids) or time.monotonic() > deadline:
            return documents
        time.sleep(0.1)


def live_places(config: Any, run: Any) -> dict[str, str]:
    """Every place the execution left data, as text to search: history, log lines, EMF metrics, traces."""
    from workshop.config import boto3_client

    lam = boto3_client("lambda", config)
    history = lam.get_durable_execution_history(DurableExecutionArn=run.arn, IncludeExecutionData=True)["Events"]
    lines = run.all_lines()
    return {
        "execution history (step results, callbacks, input, result)": json.dumps(history, default=str),
        "log lines": "\n".join(line for line in lines if '"_aws"' not in line),
        "metrics (EMF records)": "\n".join(line for line in lines if '"_aws"' in line),
        "X-Ray segments": json.dumps(_segments(config, run), default=str),
    }
