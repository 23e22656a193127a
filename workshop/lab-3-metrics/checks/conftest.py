"""Fixtures for lab 3's stage checks (see workshop/labs/pytest_plugin.py): the order saga, in-process and live."""

from __future__ import annotations

from types import ModuleType

import pytest

from workshop.labs.harness.saga import run_saga
from workshop.labs.model import Lab
from workshop.labs.pytest_plugin import early_live_run, in_process_run, lab_at, lab_handler, live_run, sample_stock, target  # noqa: F401
from workshop.labs.run import ExecutionRun

lab = lab_at(__file__)


@pytest.fixture(scope="session")
def waiting_run(lab: Lab, lab_handler: ModuleType) -> ExecutionRun:
    """An execution still waiting for the warehouse (nobody answers its callback)."""
    payload = {**lab.payload, "simulate": {"warehouse": "manual"}}
    return run_saga(lab_handler.lambda_handler, payload, until_callback="warehouse-confirmation")
