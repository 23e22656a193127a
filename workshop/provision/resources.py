"""What every resource handler shares: stable local names, ARNs, the boto3 clients and ``Outcome``.

Each resource kind has its own module (tables, queues, ssm_secrets, log_groups); this
is the small common ground they build on, so none of them imports another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from workshop.config import ACCOUNT_ID, REGION, StackConfig, boto3_client
from workshop.provision.template import PARTITION, STACK_NAME


# --------------------------------------------------------------------------- resources


def local_name(logical_id: str) -> str:
    """Where AWS would generate a physical name, use a stable one: ``workshop-<LogicalId>``."""
    return f"{STACK_NAME}-{logical_id}"


def lambda_arn(function_name: str) -> str:
    return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"


@dataclass
class Outcome:
    """What provisioning one resource did, and the values other resources may refer to."""

    status: str  # created | exists | updated
    physical_id: str
    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)


class Clients:
    """One boto3 client per service, created on first use."""

    def __init__(self, config: StackConfig) -> None:
        self._config = config
        self._clients: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = boto3_client(service, self._config)
        return self._clients[service]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
