"""Removing a deployed stack's resources from the emulator (`workshop delete`).

Tables and queues hold data: `--keep-data` keeps them. Parameters and secrets
are the stack's configuration and go with it, as CloudFormation deletes them.
Log groups stay (a function's logs are still worth reading after it is gone),
as Lambda's own /aws/lambda/ groups do on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from workshop.config import StackConfig, boto3_client

DATA_TYPES = {"AWS::DynamoDB::Table", "AWS::SQS::Queue"}


def _remove(config: StackConfig, kind: str, name: str, ref: str) -> bool:
    if kind == "AWS::DynamoDB::Table":
        boto3_client("dynamodb", config).delete_table(TableName=name)
    elif kind == "AWS::SQS::Queue":
        boto3_client("sqs", config).delete_queue(QueueUrl=ref)
    elif kind == "AWS::SSM::Parameter":
        boto3_client("ssm", config).delete_parameter(Name=name)
    elif kind == "AWS::SecretsManager::Secret":
        boto3_client("secretsmanager", config).delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    else:
        return False
    return True


def remove_resources(
    config: StackConfig, resources: list[dict[str, Any]], keep_data: bool, say: Callable[[str], None]
) -> list[str]:
    """Delete what the stack created, newest first; returns what was deleted. One that is already gone is fine."""
    deleted: list[str] = []
    for resource in reversed(resources):
        kind, name = resource["type"], resource["name"]
        if keep_data and kind in DATA_TYPES:
            say(f"  kept     {kind:<28} {name}")
            continue
        try:
            if _remove(config, kind, name, resource.get("ref", name)):
                deleted.append(name)
                say(f"  deleted  {kind:<28} {name}")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if "NotFound" in code or "NonExistent" in code or code == "QueueDoesNotExist":
                continue
            raise
    return deleted
