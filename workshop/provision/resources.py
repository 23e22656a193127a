"""What every resource handler shares: stable local names, ARNs, the boto3 clients and ``Outcome``.

Each resource kind has its own module (tables, queues, ssm_secrets, log_groups); this
is the small common ground they build on, so none of them imports another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from workshop.config import StackConfig, boto3_client
from workshop.provision.template import STACK_NAME


# --------------------------------------------------------------------------- resources


def local_name(logical_id: str, stack_name: str = STACK_NAME) -> str:
    """Where AWS would generate a physical name, use a stable one: ``<stack>-<LogicalId>`` (``workshop-...``)."""
    return f"{stack_name}-{logical_id}"


@dataclass
class Outcome:
    """What provisioning one resource did, and the values other resources may refer to."""

    status: str  # created | exists | updated
    physical_id: str
    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)


class Clients:
    """One boto3 client per service, created on first use, for the resources of one stack.

    The stack's name is here because every handler that names a resource after its
    logical id needs it (``local_name``): two deployed templates with a ``Table``
    each get two tables.
    """

    def __init__(self, config: StackConfig, stack_name: str = STACK_NAME) -> None:
        self._config = config
        self._clients: dict[str, Any] = {}
        self.stack_name = stack_name

    def local_name(self, logical_id: str) -> str:
        return local_name(logical_id, self.stack_name)

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_") or service == "stack_name":
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = boto3_client(service, self._config)
        return self._clients[service]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
