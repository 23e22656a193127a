"""Fixtures for lab 1's stage checks (see workshop/labs/pytest_plugin.py): the order saga, in-process and live."""

from __future__ import annotations

from workshop.labs.pytest_plugin import early_live_run, in_process_run, lab_at, lab_handler, live_run, sample_stock, target  # noqa: F401

lab = lab_at(__file__)
