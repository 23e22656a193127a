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


def _executions_of(config, function: str) -> set[str]:
    from workshop.config import boto3_client

    lam = boto3_client("lambda", config)
    return {e["DurableExecutionArn"] for e in lam.list_durable_executions_by_function(FunctionName=function)["DurableExecutions"]}


READERS = [lab for lab in LABS if lab.checks_read_the_live_run]


@pytest.mark.parametrize("lab", READERS, ids=[f"lab-{lab.number}" for lab in READERS])
def test_make_lab_runs_one_execution_and_checks_that_one(lab, live_stack):
    """make lab-N's live run is the one its checks read back (labs that say so): its backoffs waited out once.

    Each such lab: its checks start before the live run and get its ARN handed over (lab 5 its run id too).
    """
    import os
    import subprocess
    import sys

    from workshop.config import REPO_ROOT, stack_env
    from workshop.labs.model import load_lab

    function = f"{load_lab(lab.path).function_name}-solution"
    before = _executions_of(live_stack, function)
    env = {**os.environ, **stack_env(live_stack), "LAB_TARGET": "solution"}
    done = subprocess.run(
        [sys.executable, "-m", "workshop.labs", "run", str(lab.number)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    started = _executions_of(live_stack, function) - before
    assert len(started) == 1, f"make lab-{lab.number} started {len(started)} executions of {function}: {sorted(started)}"


def test_a_labs_checks_put_the_sample_stock_back(live_stack):
    """A day of `make lab-N` reserves a book per run: each checks session restocks the sample stock at its end,
    so the stock never runs out and no run is rejected for want of books."""
    from workshop import registry
    from workshop.config import boto3_client

    lab = next(lab for lab in LABS if lab.base_function == "order-saga")
    table = registry.load(live_stack)["functions"]["order-saga"]["environment"]["INVENTORY_TABLE"]
    dynamodb = boto3_client("dynamodb", live_stack)
    dynamodb.put_item(TableName=table, Item={"sku": {"S": "SKU-BOOK"}, "available": {"N": "0"}})
    run_checks(lab, "solution", live_stack)  # its orders are rejected: the stock was gone before it began
    item = dynamodb.get_item(TableName=table, Key={"sku": {"S": "SKU-BOOK"}}, ConsistentRead=True)["Item"]
    assert int(item["available"]["N"]) >= 50, f"after lab {lab.number}'s checks the sample stock is still {item}"
    checks = run_checks(lab, "solution", live_stack)
    failing = {n: stage.failures for n, stage in checks.stages.items() if not stage.passed}
    assert not failing, f"lab {lab.number}, the run after: {failing}\n{checks.output[-3000:]}"
