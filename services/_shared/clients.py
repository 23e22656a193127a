"""The one place the services create AWS clients (order_saga, ingest and approval_wait import it as ``_shared.clients``).

Why a module of its own: every AWS call goes through ``client(name)``, so unit
tests and the labs' checks swap in in-process fakes with ``use_factory(...)``
instead of patching boto3 or running an emulator. The services share one code
folder (the template's CodeUri is services/), so they share this too.

Clients are created lazily (not at import, so a test or a missing region does
not break the import) and cached per service, as Lambda best practice
suggests: a warm execution environment reuses its connections. boto3's default
session is not thread-safe and the durable SDK runs the handler on a worker
thread, hence the lock.

Endpoints are never configured here. boto3 reads them from the environment
(``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_LAMBDA``, ...), which is how the local
stack points the functions at its emulator and function host.
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
