"""The soak's own logic, offline: its timing assumption about the ingest, the duplicate schedule, where results go.

The first test is the regression test of what the soak found: run with the
runner's clock x10, the ingest dead-lettered valid records after a worker was
killed inside the posting step. The step's retries wait in the runner's
(scaled) clock for a Powertools INPROGRESS record that expires on the wall
clock, with the invocation's deadline (the function's Timeout).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from ingest.retries import POST_MAX_ATTEMPTS, post_retry
from workshop import system
from workshop.config import REPO_ROOT, TEMPLATE_PATH
from workshop.provision import load_template, with_globals
from workshop.tools.soak import hygiene, run
from workshop.tools.soak.ingest import build_schedule
from workshop.tools.soak.saga import not_ended, outcome_counts, over_timeout


def post_retry_budget_s() -> float:
    """Modelled seconds the posting step keeps retrying a record another invocation holds."""
    error = IdempotencyAlreadyInProgressError("held")
    total = 0.0
    for attempts_made in range(1, POST_MAX_ATTEMPTS + 1):
        decision = post_retry(error, attempts_made)
        if not decision.should_retry:
            break
        total += decision.delay.to_seconds()
    return total


def test_the_soaks_ingest_retries_outlast_a_crashed_invocations_lock_in_real_time() -> None:
    ingest = with_globals(load_template(TEMPLATE_PATH))["Resources"]["IngestFunction"]["Properties"]
    lock_s = ingest["Timeout"]  # Powertools' in-progress expiry: the invocation's deadline, wall clock
    real_budget_s = post_retry_budget_s() / run.INGEST_TIME_SCALE
    assert real_budget_s > lock_s, (
        f"the post retries last {real_budget_s:g} real seconds at x{run.INGEST_TIME_SCALE:g}, "
        f"less than the {lock_s} s lock a killed worker leaves: records reach the DLQ"
    )


def test_every_copy_is_scheduled_and_duplicates_come_within_the_spread() -> None:
    bodies = [json.dumps({"record_id": f"r-{n % 7}"}) for n in range(40)]
    schedule = sorted(build_schedule(bodies, spread_s=60.0, seed=1))
    assert sorted(body for _, _, body in schedule) == sorted(bodies)
    firsts: dict[str, float] = {}
    for at, _, body in sorted(schedule, key=lambda row: row[1]):  # in the workload's order
        if body not in firsts:
            assert at == 0.0, "a record's first copy is sent at once"
            firsts[body] = at
        else:
            assert 0.0 <= at <= 60.0
    assert any(at > 0 for at, _, _ in schedule), "the duplicates are spread, not all sent at once"


def test_only_the_full_profile_writes_the_committed_figures() -> None:
    assert run.results_path(run.PROFILES["full"]) == REPO_ROOT / "docs" / "soak.json"
    assert run.results_path(run.PROFILES["short"]).parent == REPO_ROOT / ".workshop"
    smaller = run.Profile(**{**run.PROFILES["full"].__dict__, "messages": 100})
    assert run.results_path(smaller) != run.SOAK_JSON


def test_files_held_open_under_the_state_folder_are_named(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    held = (tmp_path / "logs" / "host.log").open("w")
    try:
        assert f"{os.getpid()}:logs/host.log" in system.open_files_under(tmp_path)
    finally:
        held.close()
    assert system.open_files_under(tmp_path) == []


def test_the_stall_guards_repairs_are_counted_from_the_runners_log(tmp_path: Path) -> None:
    log = tmp_path / "runner.log"
    log.write_text(
        "INFO durable runner serving\n"
        "WARNING stall guard: invoked arn:1: an operation changed (unchanged for 10 s)\n"
        "ERROR stall guard: could not check the executions\n"
        "WARNING stall guard: re-armed arn:2: a wait or retry is due\n"
    )
    assert hygiene.stall_guard_repairs(log) == 2
    assert hygiene.stall_guard_repairs(tmp_path / "missing.log") == 0


def test_outcomes_unended_and_overdue_executions_are_counted() -> None:
    start = datetime(2026, 12, 2, tzinfo=UTC)
    details = {
        "a": {"Status": "SUCCEEDED", "StartTimestamp": start, "EndTimestamp": start + timedelta(seconds=10)},
        "b": {"Status": "FAILED", "StartTimestamp": start, "EndTimestamp": start + timedelta(seconds=900)},
    }
    results = {"a": {"status": "COMPLETED", "reason": None}}
    assert outcome_counts(results, details) == {"COMPLETED/None": 1, "FAILED executions": 1}
    assert not_ended({"a": "arn-a", "b": "arn-b", "c": "arn-c"}, details) == ["c"]
    assert over_timeout(details, timeout_s=300) == ["b"]
