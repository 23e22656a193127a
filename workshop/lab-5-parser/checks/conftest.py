"""Fixtures for lab 5's stage checks (see workshop/labs/pytest_plugin.py; in-process: workshop/labs/harness/ingest.py)."""

from __future__ import annotations

from workshop.labs.pytest_plugin import lab_at, lab_handler, live_run, live_run_started, target  # noqa: F401

lab = lab_at(__file__)
