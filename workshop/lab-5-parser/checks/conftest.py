"""Fixtures for lab 5's stage checks (see workshop/labs/pytest_plugin.py; in-process: workshop/labs/harness/ingest.py)."""

from __future__ import annotations

from workshop.labs.pytest_plugin import early_live_run, lab_at, lab_handler, live_run, target  # noqa: F401

lab = lab_at(__file__)
