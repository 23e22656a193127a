"""The approval-wait part of the soak: many expenses at once, the threshold raised mid-wait, thirds answered, escalated, left.

Every request gets a random amount (about one in ten at most the threshold:
approved at once) and, when it must wait, a plan drawn in exact thirds:

- answered: approved or rejected on the approver's callback, at a random time
  between the threshold change and the approval timeout;
- escalated: nobody answers the approver; the escalation callback is answered
  (approve or reject) at a random time before the escalation timeout;
- never: nobody answers at all; the policy decides with the threshold read
  after the wait (THRESHOLD_RAISED when the raised threshold covers the
  amount, else NO_DECISION).

The wait durations are put into SSM short (modelled seconds, sized to the
number of requests; the runner's clock runs time_scale faster). Once every
request waits on its callback (or was approved at once), and before the first
approval timeout, the SSM threshold is raised from THRESHOLD_BEFORE to
THRESHOLD_AFTER: every answer comes after the change, so every decision that
follows a wait must carry the new threshold. The invariants afterwards:

- stuck: an execution not ended (SUCCEEDED or FAILED) or over its
  ExecutionTimeout; a table item still waiting; a request not yet waiting on
  its callback when the threshold was changed (at the latest 60 % into the
  first approval wait), and the change itself when it came too late;
- lost: a decision other than the plan's (status, reason, who decided,
  escalated, the threshold used; a decision with the old threshold is named
  in detail), a table item missing or not matching the decision, fewer
  callbacks or decide steps in the history than the path needs, and every
  place the signing token was found in (log files, the X-Ray sink's
  segments, an execution's history or result; metrics are EMF lines in the
  logs);
- duplicated: more than one approval or escalation callback, escalate or
  decide step in a history, or a table item for a request approved at once.

The token is read from Secrets Manager for the scan and never returned: the
detail names the places only. Run it on a stack whose approval-wait workers
have not cached the policy in the last 300 s (Powertools Parameters' max_age):
the soak's fresh private stack is one.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from workshop import registry
from workshop.config import StackConfig, boto3_client
from workshop.inspect import InspectError, Services, fetch_history
from workshop.inspect.approvals import approve, list_requests, reject
from workshop.tools.soak.ingest import _round, percentile
from workshop.tools.soak.saga import not_ended, outcome_counts, over_timeout

FUNCTION = "approval-wait"
THRESHOLD_BEFORE = Decimal("500.00")
THRESHOLD_AFTER = Decimal("1000.00")  # raised mid-wait: about half the unanswered requests become THRESHOLD_RAISED
PLANS = ("answered", "escalated", "never")
APPROVER = "soak"
MARGIN_S = 3.0  # real seconds an answer is sent before its callback can time out, at the latest
DETAIL_CAP = 20


def wait_seconds(requests: int, time_scale: float) -> dict[str, int]:
    """The SSM durations, modelled: the approver's wait outlasts starting every request (about 0.1 s real each)."""
    approval_real_s = 20 + 0.1 * requests
    escalation_real_s = 10 + 0.05 * requests
    return {"approval_seconds": round(approval_real_s * time_scale), "heartbeat_seconds": 0, "escalation_seconds": round(escalation_real_s * time_scale)}


def draw_requests(rng: random.Random, run_id: str, n: int, threshold: Decimal = THRESHOLD_BEFORE) -> list[dict[str, Any]]:
    """The expenses and each one's plan: "below" (approved at once) or, in exact thirds, answered / escalated / never."""
    top = int(threshold * 300)  # amounts up to three times the threshold, in cents
    amounts = [Decimal(rng.randint(100, int(threshold * 100))) / 100 if rng.random() < 0.1 else Decimal(rng.randint(int(threshold * 100) + 1, top)) / 100 for _ in range(n)]
    waiting = sum(1 for amount in amounts if amount > threshold)
    plans = [PLANS[i % len(PLANS)] for i in range(waiting)]
    rng.shuffle(plans)
    requests = []
    for i, amount in enumerate(amounts):
        plan = plans.pop() if amount > threshold else "below"
        requests.append({
            "request_id": f"{run_id}-{i:04d}", "amount": f"{amount:.2f}", "plan": plan,
            "answer": rng.choice(("approve", "reject")) if plan in ("answered", "escalated") else None,
            "at": rng.uniform(0.05, 0.95),  # where in its window the answer is sent
        })  # fmt: skip
    return requests


def payload(request: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": request["request_id"], "employee": f"e-{int(request['request_id'][-4:]) % 13}", "amount": request["amount"], "currency": "EUR", "description": "soak"}


def answer_text(request: dict[str, Any]) -> str:
    """The approver's comment or the rejection reason: the result's detail."""
    return f"soak {request['answer']}s {request['request_id']}"


def expected_decision(request: dict[str, Any], before: Decimal, after: Decimal) -> dict[str, Any]:
    """What the result must say: the plan's answer, or the policy with the threshold read after the wait."""
    amount = Decimal(request["amount"])
    if amount <= before:
        return {"status": "APPROVED", "reason": "BELOW_THRESHOLD", "decided_by": "policy", "escalated": False, "threshold": str(before)}
    plan = request["plan"]
    expected: dict[str, Any] = {"escalated": plan != "answered", "threshold": str(after)}
    if plan == "never":
        if amount <= after:
            return {**expected, "status": "APPROVED", "reason": "THRESHOLD_RAISED", "decided_by": "policy"}
        return {**expected, "status": "REJECTED", "reason": "NO_DECISION", "decided_by": "policy"}
    outcome = "APPROVED" if request["answer"] == "approve" else "REJECTED"
    expected.update(status=outcome, reason=outcome, decided_by="approver" if plan == "answered" else "escalation", detail=answer_text(request))
    if outcome == "APPROVED":
        expected["approver"] = APPROVER
    return expected


def decision_wrong(result: dict[str, Any] | None, expected: dict[str, Any]) -> list[str]:
    """The fields of the result that differ from the expected decision (all of them when there is no result)."""
    if not isinstance(result, dict):
        return sorted(expected)
    return [key for key, value in expected.items() if result.get(key) != value]


def history_counts(events: list[dict[str, Any]]) -> dict[str, int]:
    """How often the history started each callback and completed each step of the flow."""
    counts = {"approval": 0, "escalation": 0, "notify-approver": 0, "escalate": 0, "decide": 0}
    for event in events:
        name, kind = event.get("Name"), event.get("EventType")
        if (kind == "CallbackStarted" and name in ("approval", "escalation")) or (kind == "StepSucceeded" and name in ("notify-approver", "escalate", "decide")):
            counts[name] += 1
    return counts


def expected_counts(request: dict[str, Any], before: Decimal) -> dict[str, int]:
    if Decimal(request["amount"]) <= before:
        return {"approval": 0, "escalation": 0, "notify-approver": 0, "escalate": 0, "decide": 0}
    escalated = 1 if request["plan"] != "answered" else 0
    return {"approval": 1, "escalation": escalated, "notify-approver": 1, "escalate": escalated, "decide": 1}


def file_contains(path: Path, needle: bytes, chunk: int = 1 << 20) -> bool:
    """Whether the file holds the bytes, read in chunks (logs can be large), a match across two chunks included."""
    tail = b""
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            window = tail + block
            if needle in window:
                return True
            tail = window[max(0, len(window) - len(needle) + 1) :]
    return False


def soak_approval(config: StackConfig, approvals: int, time_scale: float, deadline_s: float, seed: int = 14) -> dict[str, Any]:
    rng = random.Random(seed)
    env = registry.function(config, FUNCTION)["environment"]
    ssm, lam = boto3_client("ssm", config), boto3_client("lambda", config)
    services = Services(config=config)
    waits = wait_seconds(approvals, time_scale)
    approval_real_s, escalation_real_s = waits["approval_seconds"] / time_scale, waits["escalation_seconds"] / time_scale
    ssm.put_parameter(Name=env["APPROVAL_TIMEOUTS_PARAM"], Value=json.dumps(waits), Type="String", Overwrite=True)
    ssm.put_parameter(Name=env["APPROVAL_THRESHOLD_PARAM"], Value=str(THRESHOLD_BEFORE), Type="String", Overwrite=True)
    requests = draw_requests(rng, f"soak-{uuid.uuid4().hex[:6]}", approvals)
    by_id = {r["request_id"]: r for r in requests}
    arns: dict[str, str] = {}
    started_at: dict[str, float] = {}
    ended_at: dict[str, float] = {}

    def start(request: dict[str, Any]) -> None:
        started_at[request["request_id"]] = time.monotonic()
        response = lam.invoke(FunctionName=f"{FUNCTION}:live", InvocationType="Event", Payload=json.dumps(payload(request)).encode())
        arns[request["request_id"]] = response["DurableExecutionArn"]

    begin = time.monotonic()
    threads = [threading.Thread(target=start, args=(r,)) for r in requests]  # concurrently, as many clients would
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first_wait_ends = min(started_at.values()) + approval_real_s  # no approver's callback can time out before this

    changed_at: float | None = None
    not_waiting_at_change: list[str] = []
    due: dict[str, float] = {}  # request id -> when (monotonic) its answer is sent
    answered: dict[str, str] = {}  # request id -> the stage the answer reached, or why it was refused
    details: dict[str, dict[str, Any]] = {}
    while len(details) < len(requests) and time.monotonic() - begin < deadline_s:
        items = {row["request_id"]: row for row in list_requests(services, include_decided=True) if row.get("request_id") in by_id}
        now = time.monotonic()
        if changed_at is None:
            # Not yet past load-policy (the one read of the old threshold): ended, or waiting on the approver.
            late = [rid for rid, r in by_id.items() if rid not in details and (r["plan"] == "below" or items.get(rid, {}).get("status") != "PENDING")]
            if not late or now >= first_wait_ends - 0.4 * approval_real_s:  # the ones still late are counted stuck
                ssm.put_parameter(Name=env["APPROVAL_THRESHOLD_PARAM"], Value=str(THRESHOLD_AFTER), Type="String", Overwrite=True)
                changed_at, not_waiting_at_change = time.monotonic(), late
                for rid, r in by_id.items():
                    if r["plan"] == "answered":
                        end = started_at[rid] + approval_real_s - MARGIN_S
                        due[rid] = changed_at + r["at"] * max(0.0, end - changed_at)
        else:
            for rid, r in by_id.items():
                if r["plan"] == "escalated" and rid not in due and items.get(rid, {}).get("status") == "ESCALATED":
                    end = started_at[rid] + approval_real_s + escalation_real_s - MARGIN_S
                    due[rid] = now + r["at"] * max(0.0, end - now)
        for rid, when in list(due.items()):
            if rid not in answered and time.monotonic() >= when:
                answered[rid] = _answer(services, by_id[rid])
        for rid, arn in arns.items():
            if rid not in details:
                detail = lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
                if detail["Status"] != "RUNNING":
                    details[rid], ended_at[rid] = detail, time.monotonic()
        time.sleep(0.25)
    seconds = time.monotonic() - begin
    figures = {
        "waits_modelled_s": waits, "threshold_before": str(THRESHOLD_BEFORE), "threshold_after": str(THRESHOLD_AFTER),
        "threshold_changed_after_s": None if changed_at is None else round(changed_at - begin, 1),
        "threshold_changed_mid_wait": changed_at is not None and changed_at < first_wait_ends,
    }  # fmt: skip
    return check(config, env, services, requests, arns, details, started_at, ended_at, seconds, answered, not_waiting_at_change, figures)


def _answer(services: Services, request: dict[str, Any]) -> str:
    """Approve or reject the request on the callback it waits on now; the stage that got the answer (or "refused")."""
    try:
        if request["answer"] == "approve":
            asked = approve(services, request["request_id"], APPROVER, answer_text(request))
        else:
            asked = reject(services, request["request_id"], answer_text(request))
    except (InspectError, ClientError):  # decided already, or the callback timed out in between: the check will tell
        return "refused"
    return str(asked.get("stage"))


def scanned_files(state_dir: Path) -> list[Path]:
    """Every log file (services and functions: EMF metrics are log lines) and the X-Ray sink's segments."""
    files = sorted(p for p in (state_dir / "logs").rglob("*") if p.is_file())
    segments = state_dir / "xray" / "segments.jsonl"
    return files + [segments] if segments.is_file() else files


def scan_for_token(config: StackConfig, token: str, histories: dict[str, list[dict[str, Any]]], details: dict[str, dict[str, Any]]) -> list[str]:
    """Every place the token is found in: files (by path), histories and results (by request id); never the token."""
    needle = token.encode()
    places = [str(p.relative_to(config.state_dir)) for p in scanned_files(config.state_dir) if file_contains(p, needle)]
    for rid, events in histories.items():
        if token in json.dumps(events, default=str):
            places.append(f"history of {rid}")
    for rid, detail in details.items():
        if token in json.dumps(detail, default=str):
            places.append(f"execution (result) of {rid}")
    return places


def check(config: StackConfig, env: dict[str, str], services: Services, requests: list[dict[str, Any]], arns: dict[str, str],
          details: dict[str, dict[str, Any]], started_at: dict[str, float], ended_at: dict[str, float], seconds: float,
          answered: dict[str, str], not_waiting_at_change: list[str], figures: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    timeout_s = int(registry.function(config, FUNCTION)["durable"].get("ExecutionTimeout", 604800))
    items = {row["request_id"]: row for row in list_requests(services, include_decided=True)}
    results = {rid: json.loads(d.get("Result") or "null") for rid, d in details.items() if d["Status"] == "SUCCEEDED"}
    histories = {rid: fetch_history(services, arns[rid]) for rid in arns}
    wrong: list[str] = []
    old_threshold: list[str] = []
    off_plan: list[str] = []
    item_wrong: list[str] = []
    item_waiting: list[str] = []
    item_extra: list[str] = []
    history_short: list[str] = []
    history_twice: list[str] = []
    for r in requests:
        rid = r["request_id"]
        if rid in not_waiting_at_change or rid not in details:
            continue  # counted as stuck
        expected = expected_decision(r, THRESHOLD_BEFORE, THRESHOLD_AFTER)
        result = results.get(rid)
        if decision_wrong(result, expected):
            wrong.append(rid)
            if result and r["plan"] != "below" and result.get("threshold") == str(THRESHOLD_BEFORE):
                old_threshold.append(rid)
        planned_stage = {"answered": "approver", "escalated": "escalation"}.get(r["plan"])
        if planned_stage and answered.get(rid) != planned_stage:
            off_plan.append(rid)
        item = items.get(rid)
        if r["plan"] == "below":
            if item is not None:
                item_extra.append(rid)
        elif item is None or (result and (item.get("status"), item.get("decided_reason")) != (result.get("status"), result.get("reason"))):
            item_wrong.append(rid)
        elif item.get("status") in ("PENDING", "ESCALATED"):
            item_waiting.append(rid)
        counts, needed = history_counts(histories[rid]), expected_counts(r, THRESHOLD_BEFORE)
        if any(counts[k] > needed[k] for k in needed):
            history_twice.append(rid)
        elif any(counts[k] < needed[k] for k in needed):
            history_short.append(rid)
    token = boto3_client("secretsmanager", config).get_secret_value(SecretId=env["APPROVER_SECRET"])["SecretString"]
    leaks = scan_for_token(config, token, histories, details)
    signed = sum(1 for events in histories.values() if "sha256=" in json.dumps(events, default=str))  # the scan does read the histories
    unended, overdue = not_ended(arns, details), over_timeout(details, timeout_s)
    latencies = [ended_at[rid] - started_at[rid] for rid in ended_at]
    outcomes = outcome_counts(results, details)
    plans = {plan: sum(1 for r in requests if r["plan"] == plan) for plan in ("below", *PLANS)}
    answers = {"approver": 0, "escalation": 0, "refused": 0}
    for stage in answered.values():
        answers[stage if stage in answers else "refused"] += 1

    def cap(ids: list[str]) -> list[str]:
        return ids[:DETAIL_CAP]

    return {
        "requests": len(requests), "seconds": round(seconds, 1), "requests_per_s": round(len(requests) / seconds, 2),
        "latency_p50_s": _round(percentile(latencies, 0.5)), "latency_p99_s": _round(percentile(latencies, 0.99)),
        "outcomes": outcomes, "plans": plans, "answers": answers, **figures,
        "token_scan": {"files": len(scanned_files(config.state_dir)), "histories": len(histories), "histories_with_signature": signed},
        "lost": len(wrong) + len(item_wrong) + len(history_short) + len(leaks),
        "duplicated": len(history_twice) + len(item_extra),
        "stuck": len(unended) + len(overdue) + len(item_waiting) + len(not_waiting_at_change) + (0 if figures["threshold_changed_mid_wait"] else 1),
        "detail": {
            "decision_wrong": cap(wrong), "decided_with_old_threshold": cap(old_threshold), "answered_off_plan": cap(off_plan),
            "item_missing_or_wrong": cap(item_wrong), "item_still_waiting": cap(item_waiting), "item_for_below_threshold": cap(item_extra),
            "history_missing_operations": cap(history_short), "history_operations_twice": cap(history_twice),
            "token_leaks": cap(leaks), "not_ended": cap(unended), "over_timeout": cap(overdue),
            "not_waiting_at_threshold_change": cap(not_waiting_at_change),
        },
    }  # fmt: skip
