"""Powertools parameter providers on the client from ``_shared.clients``, kept across invocations.

Why one per client: a provider caches what it read (``max_age``), so a warm
environment reuses a parameter instead of reading it on every invocation; a
test or a lab check that swaps the AWS clients (``use_factory``) gets a new
provider on its fake, not one still holding the real client.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

from _shared import clients

_providers: dict[str, Any] = {}


def _provider(service: str, kind: type) -> Any:
    client = clients.client(service)
    current = _providers.get(service)
    if current is None or current.client is not client:
        current = _providers[service] = kind(boto3_client=client)
    return current


def ssm() -> SSMProvider:
    """A Powertools SSM provider on the current SSM client."""
    return _provider("ssm", SSMProvider)


def secrets() -> SecretsProvider:
    """A Powertools Secrets Manager provider on the current Secrets Manager client."""
    return _provider("secretsmanager", SecretsProvider)
