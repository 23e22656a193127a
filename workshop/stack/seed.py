"""Sample data the services need locally (AWS gets it from the learner, or from this same code).

Seeding only fills an empty table, so `make up` after `make down` keeps the
state the learner's executions left behind.
"""

from __future__ import annotations

from typing import Any

from workshop.config import StackConfig, boto3_client


def seed(config: StackConfig, registry: dict[str, Any]) -> list[str]:
    """Seed every table a service declares a seeder for; returns what was seeded."""
    seeded: list[str] = []
    saga = registry["functions"].get("order-saga")
    if not saga or "INVENTORY_TABLE" not in saga.get("environment", {}):
        return seeded
    table = saga["environment"]["INVENTORY_TABLE"]
    dynamodb = boto3_client("dynamodb", config)
    if dynamodb.scan(TableName=table, Limit=1).get("Items"):
        return seeded
    from order_saga.seed import seed_inventory  # the service owns what its sample data looks like

    seed_inventory(table, dynamodb)
    seeded.append(table)
    return seeded
