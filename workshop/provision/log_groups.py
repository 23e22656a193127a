"""CloudWatch log groups: the template's AWS::Logs::LogGroup and each function's own log group."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from workshop.config import ACCOUNT_ID, REGION
from workshop.provision.resources import Clients, Outcome, _error_code
from workshop.provision.template import PARTITION


def ensure_log_group(clients: Clients, name: str, retention_days: Any = None) -> Outcome:
    logs = clients.logs
    try:
        logs.create_log_group(logGroupName=name)
        status = "created"
    except ClientError as error:
        if _error_code(error) != "ResourceAlreadyExistsException":
            raise
        status = "exists"
    if retention_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention_days))
    arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}"
    return Outcome(status, name, name, {"Arn": f"{arn}:*"})


def _log_group(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    return ensure_log_group(clients, props.get("LogGroupName") or clients.local_name(logical_id), props.get("RetentionInDays"))
