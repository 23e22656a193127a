"""Sample data the services need locally (AWS gets it from the learner, or from this same code).

Seeding only fills an empty table, so `make up` after `make down` keeps the
state the learner's executions left behind.
"""

from __future__ import annotations

from typing import Any

from workshop.config import StackConfig, boto3_client


def _inventory_table(registry: dict[str, Any]) -> str | None:
    saga = registry["functions"].get("order-saga")
    return (saga or {}).get("environment", {}).get("INVENTORY_TABLE")


def restock(config: StackConfig) -> str | None:
    """The sample SKUs back to their seeded stock; the table restocked, or None when there is none.

    Every lab run on the order saga reserves a book: a room's day of `make lab-N`
    (and `make watch`) would empty the sample stock, and the hundredth run be
    rejected for want of books instead of checked. The labs' checks call this.
    """
    from workshop import registry as registry_file

    table = _inventory_table(registry_file.load(config))
    if table is None:
        return None
    from order_saga.seed import seed_inventory  # the service owns what its sample data looks like

    seed_inventory(table, boto3_client("dynamodb", config))
    return table


def seed(config: StackConfig, registry: dict[str, Any]) -> list[str]:
    """Seed every table a service declares a seeder for; returns what was seeded."""
    seeded: list[str] = []
    table = _inventory_table(registry)
    if table is None:
        return seeded
    dynamodb = boto3_client("dynamodb", config)
    if dynamodb.scan(TableName=table, Limit=1).get("Items"):
        return seeded
    from order_saga.seed import seed_inventory  # the service owns what its sample data looks like

    seed_inventory(table, dynamodb)
    seeded.append(table)
    return seeded
