"""Fixtures for lab 1's stage checks (see workshop/labs/pytest_plugin.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.labs.model import Lab, load_lab
from workshop.labs.pytest_plugin import in_process_run, lab_handler, live_run, target  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(scope="session")
def lab() -> Lab:
    return load_lab(Path(__file__).resolve().parent.parent)
