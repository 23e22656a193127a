"""`make demo`'s executions have the shape the README explains, however loaded the machine.

The README walks through the compensating path's replay grid: four
invocations, the second suspended on the warehouse callback, whose rejection
wakes the third. The simulated warehouse used to answer as soon as it was
invoked; on a busy machine the answer landed while invocation 2 still ran, the
SDK found it recorded and went on without suspending, and the grid had three
invocations. The warehouse now waits to see the saga suspended
(order_saga.suspension). Each run here places the demo's own order while
every core runs a busy loop, the load that showed the race, and reads the
grid the explorer draws.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.polling import finished, result_of
from workshop.config import StackConfig, boto3_client
from workshop.explorer.grid import build_grid
from workshop.inspect import Services, fetch_history
from workshop.inspect.execution import load_timeline
from workshop.tools import saga_shape
from workshop.tools.demo import place_order

pytestmark = pytest.mark.live

RUNS = 3
BUSY_LOOP = "while True:\n    pass\n"


@pytest.fixture(scope="module")
def busy_cores() -> Iterator[list[int]]:
    """One busy loop per core for the module's runs, each stopped by its own pid."""
    loops = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(os.cpu_count() or 1)]
    try:
        yield [loop.pid for loop in loops]
    finally:
        for loop in loops:
            loop.terminate()
        for loop in loops:
            try:
                loop.wait(timeout=10)
            except subprocess.TimeoutExpired:
                loop.kill()
                loop.wait(timeout=10)


@pytest.fixture(scope="module")
def services(live_stack: StackConfig) -> Services:
    return Services(config=live_stack)


def run_demo_order(services: Services, warehouse: str) -> tuple[str, dict[str, Any]]:
    lam = boto3_client("lambda", services.config)
    arn = place_order(lam, {"warehouse": warehouse}, id_prefix="shape")
    return arn, result_of(finished(lam, arn, deadline_s=90))


def callback_cells(services: Services, arn: str) -> list[tuple[str, bool]]:
    """The warehouse callback's row of the grid: (state, started here) per invocation."""
    timeline, _ = load_timeline(services, arn)
    grid = build_grid(timeline, fetch_history(services, arn))
    [row] = [row for row in grid.rows if row.name == "warehouse-confirmation"]
    return [(cell.state, cell.started_here) for cell in row.cells]


@pytest.mark.parametrize("run", range(1, RUNS + 1))
def test_compensating_path_suspends_on_the_warehouse_callback(services, busy_cores, run):
    arn, result = run_demo_order(services, "reject")
    assert (result["status"], result["reason"]) == ("COMPENSATED", "WAREHOUSE_REJECTED")
    seen = saga_shape.read_shape(services, arn)
    assert [(s.number, s.suspended_on) for s in seen] == [
        (1, ("charge-payment-attempt-1",)),
        (2, ("warehouse-confirmation",)),
        (3, ("refund-payment-attempt-1",)),
        (4, ()),
    ], f"run {run} under load: {saga_shape.differences(seen, saga_shape.COMPENSATING)}"
    assert seen[2].woken_by == "the callback (warehouse-confirmation)"
    assert saga_shape.differences(seen, saga_shape.COMPENSATING) == []
    # Started and suspended on in invocation 2, the rejection replayed in 3 and 4.
    assert callback_cells(services, arn) == [
        ("not-reached", False), ("suspended", True), ("replayed", False), ("replayed", False)
    ]


def test_happy_path_suspends_on_the_warehouse_callback(services, busy_cores):
    arn, result = run_demo_order(services, "confirm")
    assert result["status"] == "COMPLETED"
    seen = saga_shape.read_shape(services, arn)
    assert saga_shape.differences(seen, saga_shape.HAPPY) == []
    assert callback_cells(services, arn) == [("not-reached", False), ("suspended", True), ("replayed", False)]
