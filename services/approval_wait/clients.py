"""The one place the approval service creates AWS clients.

Every AWS call (DynamoDB, SSM, Secrets Manager) goes through ``client(name)``,
so unit tests swap in in-process fakes with ``use_factory(...)`` instead of
patching boto3 or running an emulator. Same pattern as ``order_saga.clients``,
kept separate so the service deploys and tests on its own.

Clients are created lazily (not at import) and cached per service, as Lambda
best practice suggests; the lock is there because the durable SDK runs the
handler on a worker thread. Endpoints come from the environment
(``AWS_ENDPOINT_URL``...), which is how the local stack points the function at
its emulator.
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
    """Return the (cached) client for an AWS service, e.g. ``client("ssm")``."""
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
