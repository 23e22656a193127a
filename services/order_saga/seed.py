"""Sample inventory for a fresh stack.

The stack's provisioner calls ``seed_inventory`` once after it creates the
tables (the template itself holds no data). The SKUs cover the saga's paths:
plenty of books and mugs for happy orders, and a rare item with no stock at
all, so ordering "SKU-RARE" takes the out-of-stock path for real.
"""

from __future__ import annotations

from typing import Any

SAMPLE_STOCK: dict[str, int] = {
    "SKU-BOOK": 100,
    "SKU-MUG": 50,
    "SKU-RARE": 0,
}


def seed_inventory(table_name: str, dynamodb_client: Any) -> list[str]:
    """Put the sample SKUs into the inventory table (overwriting them); returns the SKUs."""
    for sku, available in SAMPLE_STOCK.items():
        dynamodb_client.put_item(
            TableName=table_name,
            Item={"sku": {"S": sku}, "available": {"N": str(available)}},
        )
    return list(SAMPLE_STOCK)
