"""The approval-wait soak's own logic (workshop/tools/soak/approval.py), without a stack.

The plan drawing, the decision each plan must end in (with the threshold read
after the wait), the history counts, and the token scan: each test can fail
if the logic it covers is wrong, e.g. a decision with the old threshold must
be told apart from one with the new.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

from workshop.config import StackConfig
from workshop.tools.soak.approval import (
    THRESHOLD_AFTER,
    THRESHOLD_BEFORE,
    decision_wrong,
    draw_requests,
    expected_counts,
    expected_decision,
    file_contains,
    history_counts,
    scan_for_token,
    wait_seconds,
)


def request(amount: str, plan: str, answer: str | None = None) -> dict[str, object]:
    return {"request_id": "soak-x-0001", "amount": amount, "plan": plan, "answer": answer, "at": 0.5}


def test_plans_are_exact_thirds_of_the_waiting_requests_and_the_same_for_a_seed() -> None:
    drawn = draw_requests(random.Random(14), "run", 200)
    assert drawn == draw_requests(random.Random(14), "run", 200)
    waiting = [r for r in drawn if r["plan"] != "below"]
    counts = {plan: sum(1 for r in waiting if r["plan"] == plan) for plan in ("answered", "escalated", "never")}
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    assert 0 < len(drawn) - len(waiting) < 0.2 * len(drawn)  # a few approved at once, most wait
    for r in drawn:
        amount = Decimal(r["amount"])
        assert (amount <= THRESHOLD_BEFORE) == (r["plan"] == "below")
        assert Decimal("1.00") <= amount <= 3 * THRESHOLD_BEFORE
        assert (r["answer"] in ("approve", "reject")) == (r["plan"] in ("answered", "escalated"))
        assert 0 < r["at"] < 1
    assert len({r["request_id"] for r in drawn}) == 200
    # the raised threshold splits the unanswered ones: some approved by policy, some rejected
    never = [Decimal(r["amount"]) for r in waiting if r["plan"] == "never"]
    assert any(a <= THRESHOLD_AFTER for a in never) and any(a > THRESHOLD_AFTER for a in never)


def test_expected_decision_for_every_plan() -> None:
    before, after = Decimal("500.00"), Decimal("1000.00")
    assert expected_decision(request("500.00", "below"), before, after) == {
        "status": "APPROVED", "reason": "BELOW_THRESHOLD", "decided_by": "policy", "escalated": False, "threshold": "500.00"}  # fmt: skip
    approved = expected_decision(request("800.00", "answered", "approve"), before, after)
    assert approved == {"status": "APPROVED", "reason": "APPROVED", "decided_by": "approver", "escalated": False, "threshold": "1000.00",
                        "detail": "soak approves soak-x-0001", "approver": "soak"}  # fmt: skip
    rejected = expected_decision(request("2000.00", "escalated", "reject"), before, after)
    assert rejected == {"status": "REJECTED", "reason": "REJECTED", "decided_by": "escalation", "escalated": True, "threshold": "1000.00",
                        "detail": "soak rejects soak-x-0001"}  # fmt: skip
    raised = expected_decision(request("1000.00", "never"), before, after)
    assert (raised["status"], raised["reason"], raised["decided_by"], raised["escalated"], raised["threshold"]) == ("APPROVED", "THRESHOLD_RAISED", "policy", True, "1000.00")
    none = expected_decision(request("1000.01", "never"), before, after)
    assert (none["status"], none["reason"]) == ("REJECTED", "NO_DECISION")


def test_a_decision_with_the_old_threshold_is_wrong() -> None:
    expected = expected_decision(request("800.00", "never"), THRESHOLD_BEFORE, THRESHOLD_AFTER)
    right = {"status": "APPROVED", "reason": "THRESHOLD_RAISED", "decided_by": "policy", "escalated": True, "threshold": "1000.00", "amount": "800.00"}
    assert decision_wrong(right, expected) == []
    stale = {**right, "status": "REJECTED", "reason": "NO_DECISION", "threshold": "500.00"}
    assert sorted(decision_wrong(stale, expected)) == ["reason", "status", "threshold"]
    assert decision_wrong(None, expected) == sorted(expected)  # no result at all: every field is wrong


def test_history_counts_see_an_escalation_twice() -> None:
    def event(kind: str, name: str) -> dict[str, str]:
        return {"EventType": kind, "Name": name}

    once = [event("StepSucceeded", "load-policy"), event("CallbackStarted", "approval"), event("StepStarted", "notify-approver"),
            event("StepSucceeded", "notify-approver"), event("CallbackTimedOut", "approval"), event("CallbackStarted", "escalation"),
            event("StepSucceeded", "escalate"), event("StepSucceeded", "decide")]  # fmt: skip
    needed = expected_counts(request("800.00", "never"), THRESHOLD_BEFORE)
    assert history_counts(once) == needed
    twice = history_counts([*once, event("CallbackStarted", "escalation")])
    assert twice["escalation"] == 2 > needed["escalation"]
    assert expected_counts(request("800.00", "answered", "approve"), THRESHOLD_BEFORE)["escalation"] == 0
    assert set(expected_counts(request("10.00", "below"), THRESHOLD_BEFORE).values()) == {0}


def test_file_contains_finds_the_token_across_chunks(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(b"a" * 10 + b"TOKEN123" + b"b" * 10)
    for chunk in (1, 3, 7, 12, 1 << 20):
        assert file_contains(log, b"TOKEN123", chunk=chunk), chunk
    assert not file_contains(log, b"TOKEN124", chunk=3)


def test_the_scan_names_each_place_and_never_the_token(tmp_path: Path) -> None:
    token = "s3cr3tTokenValue0123456789"
    (tmp_path / "logs" / "functions").mkdir(parents=True)
    (tmp_path / "xray").mkdir()
    (tmp_path / "logs" / "runner.log").write_text("nothing here\n")
    (tmp_path / "logs" / "functions" / "approval-wait.log").write_text(json.dumps({"_aws": {}, "token": token}) + "\n")
    (tmp_path / "xray" / "segments.jsonl").write_text(json.dumps({"annotations": {"t": token}}) + "\n")
    histories = {"r1": [{"EventType": "StepSucceeded", "Result": {"Payload": f'{{"v": "{token}"}}'}}], "r2": [{"EventType": "StepSucceeded"}]}
    details = {"r1": {"Result": "{}"}, "r2": {"Result": json.dumps({"detail": token})}}
    places = scan_for_token(StackConfig(state_dir=tmp_path), token, histories, details)
    assert places == ["logs/functions/approval-wait.log", "xray/segments.jsonl", "history of r1", "execution (result) of r2"]
    assert not any(token in place for place in places)


def test_waits_fit_the_profiles_at_x10() -> None:
    short, full = wait_seconds(30, 10), wait_seconds(200, 10)
    assert short["heartbeat_seconds"] == full["heartbeat_seconds"] == 0
    assert (short["approval_seconds"] + short["escalation_seconds"]) / 10 < 45  # the short profile's part: well under a minute
    assert (full["approval_seconds"] + full["escalation_seconds"]) / 10 < 90
    assert full["approval_seconds"] / 10 > 30  # room to start 200 and see them all wait before the first timeout
