"""The one place the ingest function creates AWS clients.

Every AWS call (the ledger, the idempotency table, the rejections table) goes
through ``client(name)``, so unit tests and lab checks swap in in-process
fakes with ``use_factory(...)`` instead of patching boto3. The same pattern as
``order_saga.clients``; each service keeps its own so the services stay
independent of each other.

Clients are created on first use (never at import) and cached per service; the
lock is there because the durable SDK runs the handler on a worker thread.
Endpoints come from the environment (``AWS_ENDPOINT_URL``...), never from here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3

ClientFactory = Callable[[str], Any]

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _boto3_factory(service_name: str) -> Any:
    return boto3.client(service_name)  # type: ignore[call-overload]


_factory: ClientFactory = _boto3_factory


def client(service_name: str) -> Any:
    """Return the (cached) client for an AWS service, e.g. ``client("dynamodb")``."""
    with _lock:
        if service_name not in _cache:
            _cache[service_name] = _factory(service_name)
        return _cache[service_name]


def use_factory(factory: ClientFactory | None) -> None:
    """Replace how clients are made (tests); ``None`` restores boto3. Clears the cache."""
    global _factory
    with _lock:
        _factory = factory or _boto3_factory
        _cache.clear()
