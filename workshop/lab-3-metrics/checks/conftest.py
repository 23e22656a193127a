"""Fixtures for lab 3's stage checks (see workshop/labs/pytest_plugin.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from workshop.labs.model import Lab, load_lab
from workshop.labs.pytest_plugin import in_process_run, lab_handler, live_run, target  # noqa: F401
from workshop.labs.run import ExecutionRun, run_in_process

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(scope="session")
def lab() -> Lab:
    return load_lab(Path(__file__).resolve().parent.parent)


@pytest.fixture(scope="session")
def waiting_run(lab: Lab, lab_handler: ModuleType) -> ExecutionRun:
    """An execution still waiting for the warehouse (nobody answers its callback)."""
    payload = {**lab.payload, "simulate": {"warehouse": "manual"}}
    return run_in_process(lab_handler.lambda_handler, payload, until_callback="warehouse-confirmation")
