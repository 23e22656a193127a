"""Fixtures for lab 2's stage checks (see workshop/labs/pytest_plugin.py and checks/tracing.py).

Tracer must be enabled in Lambda mode BEFORE Powertools and the X-Ray SDK are
imported (they read the environment once), so this file sets it up at import:
an X-Ray receiver on a free UDP port in this process, and the Lambda variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tracing import STACK_CLEAN, TracedRun, UdpReceiver, lambda_mode_env, run_traced_in_process, run_traced_live

from workshop.labs.harness.in_process import environment
from workshop.labs.model import Lab
from workshop.labs.pytest_plugin import end_live_early, lab_at, lab_handler, read_early, start_live_early, sample_stock, target  # noqa: F401

LAB_DIR = Path(__file__).resolve().parent.parent
RECEIVER = UdpReceiver()
os.environ.update(lambda_mode_env(RECEIVER, str(LAB_DIR)))

lab = lab_at(__file__)


@pytest.fixture(scope="session")
def traced_run(lab: Lab, lab_handler: ModuleType) -> TracedRun:
    """One execution of the lab's payload in-process, with each invocation's X-Ray trace."""
    return run_traced_in_process(lab_handler.lambda_handler, lab.payload, RECEIVER)


@pytest.fixture(scope="session", autouse=True)
def early_live_run(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The live execution, started before the first check (pytest_plugin.start_live_early), outside Lambda mode."""
    with environment(STACK_CLEAN):
        arn = start_live_early(request, ("live_traced_run",))
    yield arn
    end_live_early(arn)


@pytest.fixture(scope="session")
def live_traced_run(lab: Lab, target: str) -> TracedRun:
    """One real execution on the local stack, with each invocation's trace from the X-Ray sink."""
    read_early()
    return run_traced_live(lab, target)
