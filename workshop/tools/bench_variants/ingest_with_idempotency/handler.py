"""Benchmark only (`make bench`): the ingest service's handler, unchanged (Powertools Idempotency on).

Registered as a function of its own beside ``ingest_without_idempotency`` so
that both are measured the same way: their own queue, filled before their
event source mapping starts polling.
"""

from __future__ import annotations

from ingest.handler import lambda_handler

__all__ = ["lambda_handler"]
