"""Fixtures for lab 6's stage checks (see workshop/labs/pytest_plugin.py).

Each scenario runs once per session, in-process (workshop/labs/harness/approval.py),
and is shared by the checks that read it; `live_run` is one real execution on the
local stack (the lab's `prepare_live` sets its 1-second timeouts first).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from workshop.labs.harness.approval import ApprovalWait, Finished, approval_wait, expense
from workshop.labs.model import Lab
from workshop.labs.pytest_plugin import early_live_run, lab_at, lab_handler, live_run, target  # noqa: F401

lab = lab_at(__file__)


def approval_environment(lab: Lab, lab_handler: ModuleType) -> AbstractContextManager[ApprovalWait]:
    """The approval wait in-process with the lab's handler and the lab's own parameters."""
    meta = lab.module
    return approval_wait(lab_handler.lambda_handler, meta.THRESHOLD_PARAM, meta.TIMEOUTS_PARAM, meta.THRESHOLD)


@dataclass
class Reads:
    """What two executions in one warm environment asked SSM and Secrets Manager for."""

    threshold: int
    timeouts: int
    secret: int
    invocations: int
    executions: int


@pytest.fixture(scope="session")
def two_expenses(lab: Lab, lab_handler: ModuleType) -> Reads:
    """Two expenses, one after the other in the same environment, each approved once it waits."""
    with approval_environment(lab, lab_handler) as env:
        invocations = 0
        for number in (1, 2):
            arn = env.start(expense(f"lab6-reads-{number}"))
            env.approve(env.wait_for_callback(arn))
            finished = env.finish(arn)
            assert finished.status == "SUCCEEDED", f"expense {number} ended {finished.status}: {finished.error}"
            invocations += finished.invocations()
        reads = env.fake.ssm.reads
        return Reads(
            threshold=reads.count(lab.module.THRESHOLD_PARAM),
            timeouts=reads.count(lab.module.TIMEOUTS_PARAM),
            secret=len(env.fake.secretsmanager.reads),
            invocations=invocations,
            executions=2,
        )


@dataclass
class Scenario:
    finished: Finished
    table_item: dict[str, Any] | None
    token: str
    lines: list[str]  # every log and EMF line, all invocations


@pytest.fixture(scope="session")
def raised_while_waiting(lab: Lab, lab_handler: ModuleType) -> Scenario:
    """800.00 against a 500.00 threshold; nobody answers (1-s timeouts), and meanwhile the threshold rises to 1000.00."""
    with approval_environment(lab, lab_handler) as env:
        env.set_waits(approval=1, escalation=1)
        arn = env.start(expense("lab6-raised"))
        env.wait_for_callback(arn)
        env.set_threshold("1000.00")  # the policy changes while the request waits (same warm environment)
        finished = env.finish(arn)
        return Scenario(finished, env.table_item("lab6-raised"), env.token, env.all_lines())


@pytest.fixture(scope="session")
def rejected_after_raise(lab: Lab, lab_handler: ModuleType) -> Scenario:
    """800.00 waits; the threshold rises to 1000.00, the approver rejects; the replay runs in a new environment."""
    with approval_environment(lab, lab_handler) as env:
        arn = env.start(expense("lab6-rejected"))
        callback_id = env.wait_for_callback(arn)
        env.set_threshold("1000.00")
        env.new_environment()  # days later: a cold environment, nothing cached
        env.reject(callback_id, "not in this quarter's budget")
        finished = env.finish(arn)
        return Scenario(finished, env.table_item("lab6-rejected"), env.token, env.all_lines())
