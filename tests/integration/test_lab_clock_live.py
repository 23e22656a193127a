"""A lab's function fires its durable back-off sooner; the demo's saga, on the same runner, keeps real time.

Both run the same order (one transient payment error: one 1 s back-off) on one
private stack. Each history records the wait's Duration and when it started
and succeeded; the test compares those recorded gaps to the recorded
Duration, not to a wall-clock limit: the real one is never shorter than its
duration (the runner's own guarantee), the lab's is a small fraction of it.
The same for a step's retry back-off (retrying_step/), scaled and not: the
SDK runs the retry fired early, and it succeeds.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.integration.polling import finished
from workshop import registry
from workshop.config import REPO_ROOT, StackConfig, boto3_client
from workshop.labs.harness.live import deploy
from workshop.labs.model import all_labs

pytestmark = pytest.mark.live

LAB = next(lab for lab in all_labs() if lab.number == 1)
RETRYING_STEP = REPO_ROOT / "tests" / "integration" / "retrying_step"


def one_backoff_order() -> dict[str, Any]:
    return {**LAB.payload, "order_id": f"clock-{uuid.uuid4().hex[:12]}", "simulate": {"transient_payment_errors": 1}}


def stamp(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def backoff_gaps(lam: Any, arn: str) -> list[tuple[float, float]]:
    """(recorded Duration, seconds from WaitStarted to WaitSucceeded) of each back-off wait."""
    events = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]
    started = {e["Id"]: e for e in events if e["EventType"] == "WaitStarted" and "backoff" in e.get("Name", "")}
    gaps = []
    for event in events:
        if event["EventType"] == "WaitSucceeded" and event["Id"] in started:
            begin = started[event["Id"]]
            gap = (stamp(event["EventTimestamp"]) - stamp(begin["EventTimestamp"])).total_seconds()
            gaps.append((float(begin["WaitStartedDetails"]["Duration"]), gap))
    return gaps


def test_a_lab_functions_backoff_fires_sooner_and_the_demo_saga_keeps_real_time(live_stack: StackConfig) -> None:
    assert LAB.time_scale >= 10, "lab 1 should run its waits faster (lab.py's TIME_SCALE)"
    lam = boto3_client("lambda", live_stack)
    lab_arn = deploy(LAB, "solution", live_stack).start(one_backoff_order())
    demo = lam.invoke(FunctionName="order-saga:live", InvocationType="Event", Payload=json.dumps(one_backoff_order()).encode())
    demo_arn = demo["DurableExecutionArn"]
    for arn in (lab_arn, demo_arn):
        assert finished(lam, arn, deadline_s=90)["Status"] == "SUCCEEDED", arn

    [(lab_duration, lab_gap)] = backoff_gaps(lam, lab_arn)
    [(demo_duration, demo_gap)] = backoff_gaps(lam, demo_arn)
    assert lab_duration == demo_duration == 1.0  # the same back-off, recorded at its real length in both
    assert demo_gap >= 0.95 * demo_duration, f"the demo saga's 1 s back-off ended after {demo_gap:.3f} s"
    assert lab_gap <= demo_gap / 4, f"the lab's back-off took {lab_gap:.3f} s, the demo's {demo_gap:.3f} s: not fired sooner"


def retry_gaps(lam: Any, arn: str) -> list[tuple[float, float]]:
    """(recorded NextAttemptDelaySeconds, seconds from the StepFailed to the next StepStarted) of each step retry."""
    events = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]
    gaps = []
    for index, event in enumerate(events):
        retry = event.get("StepFailedDetails", {}).get("RetryDetails", {})
        if event["EventType"] != "StepFailed" or "NextAttemptDelaySeconds" not in retry:
            continue
        again = next(e for e in events[index:] if e["EventType"] == "StepStarted" and e["Id"] == event["Id"])
        gaps.append((float(retry["NextAttemptDelaySeconds"]), (stamp(again["EventTimestamp"]) - stamp(event["EventTimestamp"])).total_seconds()))
    return gaps


def test_a_scaled_functions_step_retry_fires_sooner_and_the_sdk_runs_it(live_stack: StackConfig) -> None:
    lam = boto3_client("lambda", live_stack)
    arns = {}
    for name, scale in (("clock-retry-scaled", 20.0), ("clock-retry-real", None)):
        registry.register_copy(live_stack, name, str(RETRYING_STEP), "order-saga", {}, time_scale=scale)
        arns[name] = lam.invoke(FunctionName=f"{name}:$LATEST", InvocationType="Event", Payload=b"{}")["DurableExecutionArn"]
    for arn in arns.values():
        detail = finished(lam, arn, deadline_s=90)
        assert detail["Status"] == "SUCCEEDED" and json.loads(detail["Result"]) == {"attempt": 2}, detail

    [(scaled_delay, scaled_gap)] = retry_gaps(lam, arns["clock-retry-scaled"])
    [(real_delay, real_gap)] = retry_gaps(lam, arns["clock-retry-real"])
    assert scaled_delay == real_delay == 1.0
    assert real_gap >= 0.95 * real_delay, f"the unscaled step's 1 s retry back-off ended after {real_gap:.3f} s"
    assert scaled_gap <= real_gap / 4, f"the scaled step's retry came {scaled_gap:.3f} s after its failure, the real one's {real_gap:.3f} s"
