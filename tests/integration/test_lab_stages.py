"""Every lab's stage checks fail on its starter and pass on its solution.

A check that passes on the starter teaches nothing; a solution that fails a
check is a broken lab. The lab checks run in subprocesses against the
private stack the live tests use.
"""

from __future__ import annotations

import pytest

from workshop.labs.checks import run_checks
from workshop.labs.model import all_labs

pytestmark = pytest.mark.live

LABS = all_labs()


@pytest.mark.parametrize("lab", LABS, ids=[f"lab-{lab.number}" for lab in LABS])
def test_every_stage_fails_on_the_starter(lab, live_stack):
    checks = run_checks(lab, "starter", live_stack)
    passing = [n for n, stage in checks.stages.items() if stage.passed]
    assert not passing, f"lab {lab.number}: stages {passing} pass on the starter\n{checks.output[-3000:]}"
    assert set(checks.stages) == {stage.number for stage in lab.stages}


@pytest.mark.parametrize("lab", LABS, ids=[f"lab-{lab.number}" for lab in LABS])
def test_every_stage_passes_on_the_solution(lab, live_stack):
    checks = run_checks(lab, "solution", live_stack)
    failing = {n: stage.failures for n, stage in checks.stages.items() if not stage.passed}
    assert not failing, f"lab {lab.number}: failing on the solution: {failing}\n{checks.output[-3000:]}"
