"""Stage 2: the threshold is read inside steps: fixed for the branch, fresh in "decide" after the wait."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _seen(scenario) -> str:
    f = scenario.finished
    if f.status != "SUCCEEDED" or not f.result:
        return f"the execution ended {f.status}: {f.error}"
    r = f.result
    item = scenario.table_item or {}
    return (
        f"{r['status']} / {r['reason']} with threshold {r['threshold']}, operations {f.operations}, "
        f"the request {item.get('status', 'not recorded')} in the approvals table"
    )


def test_threshold_raised_during_the_wait_is_the_one_applied(raised_while_waiting):
    s = raised_while_waiting
    f, r = s.finished, s.finished.result or {}
    expected = (
        "expected the threshold raised to 1000.00 during the wait to be applied by the \"decide\" step after it "
        "(APPROVED / THRESHOLD_RAISED with threshold 1000.00, the request marked APPROVED); saw " + _seen(s)
    )
    if r.get("reason") == "BELOW_THRESHOLD" and "approval" in f.operations:
        expected += (
            " — the approver was asked, yet the result says 'approved at once, nobody asked': the replay after the "
            "wait read the threshold again at the top of the handler, outside any step, and took another branch "
            "than the first invocation, so the request is never marked decided"
        )
    elif r.get("threshold") == "500.00":
        expected += (
            " — a stale decision: 500.00 is the value read (or cached) when the execution started, days old by "
            "the time it is applied; read it again inside \"decide\" with policy.threshold(fresh=True)"
        )
    assert r.get("reason") == "THRESHOLD_RAISED" and r.get("threshold") == "1000.00", expected
    assert "decide" in f.operations and (s.table_item or {}).get("status") == "APPROVED", expected


def test_the_approvers_answer_is_not_overridden_by_a_replay(rejected_after_raise):
    s = rejected_after_raise
    f, r = s.finished, s.finished.result or {}
    expected = (
        "expected the approver's rejection to stand (REJECTED / REJECTED, decided in the \"decide\" step) although "
        "the threshold rose to 1000.00 while the request waited; saw " + _seen(s)
    )
    if r.get("reason") == "BELOW_THRESHOLD":
        expected += (
            " — the replay after the answer ran in a new execution environment (nothing cached, as on AWS days "
            "later), read 1000.00 outside any step and approved 'at once' what the approver had rejected. Read "
            "the threshold in a \"load-policy\" step: every replay gets its checkpointed value"
        )
    assert r.get("status") == "REJECTED" and r.get("reason") == "REJECTED", expected
    assert "decide" in f.operations and (s.table_item or {}).get("status") == "REJECTED", expected
