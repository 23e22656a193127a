"""DynamoDB tables (AWS::DynamoDB::Table; SAM's SimpleTable arrives as one, translated), created idempotently."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from workshop.provision.intrinsics import _truthy
from workshop.provision.resources import Clients, Outcome, _error_code


def _table(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    ddb = clients.dynamodb
    name = props.get("TableName") or clients.local_name(logical_id)
    status = "exists"
    try:
        description = ddb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("ProvisionedThroughput", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "Tags"):
            if key in props:
                kwargs[key] = props[key]
        if "StreamSpecification" in props:  # CloudFormation omits StreamEnabled
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb.create_table(**kwargs)
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        description = ddb.describe_table(TableName=name)["Table"]
        status = "created"

    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        wanted = _truthy(ttl.get("Enabled", False))
        current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        enabled = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        if enabled != wanted or (wanted and current.get("AttributeName") != ttl.get("AttributeName")):
            spec = {"AttributeName": ttl.get("AttributeName") or current.get("AttributeName"), "Enabled": wanted}
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
            status = "updated" if status == "exists" else status

    attrs = {"Arn": description["TableArn"]}
    if description.get("LatestStreamArn"):
        attrs["StreamArn"] = description["LatestStreamArn"]
    return Outcome(status, name, name, attrs)

