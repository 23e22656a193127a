"""Shared fixtures for unit tests: in-process fakes of the AWS clients the services use.

No network, no emulator: ``_shared.clients.use_factory`` makes every
``clients.client(name)`` return one of the fakes in ``workshop.testing.fakes``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

# Before any service module is imported: no X-Ray daemon in unit tests, and
# the names the template would give.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Workshop")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "order-saga")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from _shared import clients  # noqa: E402

from workshop.testing.fakes import FakeAWS, FakeDynamoDB, FakeLambda, FakeSSM  # noqa: E402,F401


@pytest.fixture
def aws() -> Any:
    """In-process AWS fakes behind ``order_saga.clients`` for the duration of a test."""
    fake = FakeAWS()
    clients.use_factory(fake.client)
    try:
        yield fake
    finally:
        fake.lambda_.join()
        clients.use_factory(None)
    assert not fake.lambda_.errors, f"an async invoke raised: {fake.lambda_.errors!r}"
