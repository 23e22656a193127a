"""Fixtures for lab 5's stage checks (see workshop/labs/pytest_plugin.py and batch.py here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.labs.model import Lab, load_lab
from workshop.labs.pytest_plugin import lab_handler, live_run, target  # noqa: F401

# A replay that adds no metric makes Powertools warn "No application metrics to publish".
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(scope="session")
def lab() -> Lab:
    return load_lab(Path(__file__).resolve().parent.parent)
