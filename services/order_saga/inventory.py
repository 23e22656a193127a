"""Stock reservation with DynamoDB conditional updates.

Table (env INVENTORY_TABLE): partition key ``sku`` (S), attribute ``available`` (N).

Why conditional updates: ``available >= :quantity`` is checked and the
decrement applied in one atomic write, so two orders can never both take the
last item. A failed condition (``ConditionalCheckFailedException``) is the
business answer "out of stock", not an error. A SKU that does not exist fails
the same condition, so it is out of stock too.

An order with several SKUs is reserved one SKU at a time; if a later SKU is
out of stock, the SKUs already taken are put back before the function returns,
so a reservation is all-or-nothing as seen from the saga.

These functions are plain business code; the saga runs them inside steps
(``reserve-inventory``, ``release-inventory``), which checkpoint their results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from botocore.exceptions import ClientError

from _shared import clients

from order_saga import settings
from order_saga.models import OrderItem
from order_saga.observability import tracer

_NAMES = {"#available": "available"}


class Reservation(TypedDict):
    """The result of ``reserve_items``, checkpointed by the reserve step."""

    reserved: bool
    items: list[dict[str, Any]]  # what was reserved: [{"sku", "quantity"}]
    unavailable_sku: str | None  # the first SKU that could not be reserved


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _take(table: str, sku: str, quantity: int) -> bool:
    """Decrement ``available`` by ``quantity`` if enough is left; False when not."""
    try:
        clients.client("dynamodb").update_item(
            TableName=table,
            Key={"sku": {"S": sku}},
            UpdateExpression="SET #available = #available - :quantity",
            ConditionExpression="#available >= :quantity",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues={":quantity": {"N": str(quantity)}},
        )
    except ClientError as error:
        if _is_condition_failure(error):
            return False
        raise
    return True


def _put_back(table: str, sku: str, quantity: int) -> None:
    """Increment ``available`` by ``quantity`` (the SKU must exist)."""
    clients.client("dynamodb").update_item(
        TableName=table,
        Key={"sku": {"S": sku}},
        UpdateExpression="SET #available = #available + :quantity",
        ConditionExpression="attribute_exists(#available)",
        ExpressionAttributeNames=_NAMES,
        ExpressionAttributeValues={":quantity": {"N": str(quantity)}},
    )


@tracer.capture_method
def reserve_items(items: Sequence[OrderItem], simulate_out_of_stock: bool = False) -> Reservation:
    """Reserve every item or none.

    ``simulate_out_of_stock`` answers "out of stock" for the first item without
    writing anything (failure injection through the order's ``simulate`` field).
    """
    if simulate_out_of_stock:
        return Reservation(reserved=False, items=[], unavailable_sku=items[0].sku)

    table = settings.inventory_table()
    taken: list[OrderItem] = []
    try:
        for item in items:
            if not _take(table, item.sku, item.quantity):
                _release(table, taken)
                return Reservation(reserved=False, items=[], unavailable_sku=item.sku)
            taken.append(item)
    except Exception:
        # Leave nothing half-reserved behind a failed attempt: the step may retry it.
        _release(table, taken)
        raise
    return Reservation(
        reserved=True,
        items=[{"sku": item.sku, "quantity": item.quantity} for item in taken],
        unavailable_sku=None,
    )


def _release(table: str, items: Iterable[OrderItem]) -> None:
    for item in items:
        _put_back(table, item.sku, item.quantity)


@tracer.capture_method
def release_items(items: Sequence[OrderItem]) -> list[dict[str, Any]]:
    """Put reserved stock back (the compensation of ``reserve_items``)."""
    _release(settings.inventory_table(), items)
    return [{"sku": item.sku, "quantity": item.quantity} for item in items]
