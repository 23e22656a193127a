"""The payment function: a plain (non-durable) Lambda function that charges and refunds.

Handler: ``order_saga.payment.lambda_handler``. The saga calls it with
``context.invoke`` (a chained invoke), so its return value becomes the
invoke's result and an exception it raises becomes the invoke's error, with
the exception's class name as the error type.

Request::

    {"action": "charge", "order_id": "o-1", "amount": "19.99", "currency": "EUR",
     "simulate": {"card_declined": false, "transient_payment_errors": 0}}
    {"action": "refund", "order_id": "o-1"}

Response: the payment record ``{"payment_id", "order_id", "status", "amount",
"currency", "attempts"}`` with status CHARGED or REFUNDED.

Errors: ``PaymentTransientError`` (try again later), ``PaymentDeclinedError``
(final), ``PaymentStateError`` (refund of a payment that is not charged).

Table (env PAYMENTS_TABLE): partition key ``order_id`` (S). One record per
order holds the status and an ``attempts`` counter. The counter is what makes
``transient_payment_errors`` deterministic: every charge attempt increments it
atomically and fails while it is <= the number asked for, whichever process
or retry runs the attempt.

Both actions are idempotent per order: charging a CHARGED order returns the
existing payment, refunding a REFUNDED one returns it again. A chained invoke
may run its target more than once (a retry after a lost response), and the
saga's compensations retry until they succeed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import BaseModel, parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import ConfigDict, Field

from _shared import clients

from order_saga import settings
from order_saga.errors import PaymentDeclinedError, PaymentStateError, PaymentTransientError
from order_saga.models import Identifier
from order_saga.observability import logger, tracer

CHARGED = "CHARGED"
DECLINED = "DECLINED"
REFUNDED = "REFUNDED"


class PaymentSimulation(BaseModel):
    """The payment part of the order's ``simulate`` field."""

    model_config = ConfigDict(extra="ignore")

    card_declined: bool = False
    transient_payment_errors: int = Field(default=0, ge=0)


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["charge", "refund"]
    order_id: Identifier
    amount: Decimal | None = Field(default=None, gt=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    simulate: PaymentSimulation = Field(default_factory=PaymentSimulation)


def payment_id_for(order_id: str) -> str:
    """Deterministic payment id: one payment per order."""
    return f"pay-{order_id}"


def _record(attributes: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as the JSON record the function returns."""

    def value(name: str) -> str | None:
        cell = attributes.get(name)
        return next(iter(cell.values())) if cell else None

    return {
        "payment_id": value("payment_id"),
        "order_id": value("order_id"),
        "status": value("status"),
        "amount": value("amount"),
        "currency": value("currency"),
        "attempts": int(value("attempts") or 0),
    }


def _count_attempt(table: str, order_id: str) -> dict[str, Any]:
    response = clients.client("dynamodb").update_item(
        TableName=table,
        Key={"order_id": {"S": order_id}},
        UpdateExpression="ADD #attempts :one",
        ExpressionAttributeNames={"#attempts": "attempts"},
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    return response["Attributes"]


def _set_status(
    table: str, order_id: str, status: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    names = {"#status": "status"}
    values: dict[str, Any] = {":status": {"S": status}}
    assignments = ["#status = :status"]
    for key, cell in (extra or {}).items():
        names[f"#{key}"] = key
        values[f":{key}"] = cell
        assignments.append(f"#{key} = :{key}")
    response = clients.client("dynamodb").update_item(
        TableName=table,
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET " + ", ".join(assignments),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    return response["Attributes"]


@tracer.capture_method
def charge(request: PaymentRequest) -> dict[str, Any]:
    """Charge the order's amount once, honouring the simulated failures."""
    if request.amount is None or request.currency is None:
        raise ValueError("a charge needs amount and currency")
    table = settings.payments_table()
    current = _count_attempt(table, request.order_id)
    record = _record(current)
    if record["status"] == CHARGED:
        logger.info("Order already charged, returning the existing payment", extra=record)
        return record

    attempt = record["attempts"]
    if attempt <= request.simulate.transient_payment_errors:
        logger.warning(
            "Simulated transient payment failure",
            extra={"order_id": request.order_id, "attempt": attempt},
        )
        raise PaymentTransientError(f"payment provider unavailable (attempt {attempt})")

    if request.simulate.card_declined:
        _set_status(table, request.order_id, DECLINED)
        logger.info("Card declined", extra={"order_id": request.order_id})
        raise PaymentDeclinedError(f"card declined for order {request.order_id}")

    charged = _set_status(
        table,
        request.order_id,
        CHARGED,
        {
            "payment_id": {"S": payment_id_for(request.order_id)},
            "amount": {"N": str(request.amount)},
            "currency": {"S": request.currency},
        },
    )
    record = _record(charged)
    logger.info("Payment charged", extra=record)
    return record


@tracer.capture_method
def refund(order_id: str) -> dict[str, Any]:
    """Refund a charged order; refunding an already refunded one is a no-op."""
    table = settings.payments_table()
    dynamodb = clients.client("dynamodb")
    try:
        response = dynamodb.update_item(
            TableName=table,
            Key={"order_id": {"S": order_id}},
            UpdateExpression="SET #status = :refunded",
            ConditionExpression="#status = :charged",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":refunded": {"S": REFUNDED}, ":charged": {"S": CHARGED}},
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        existing = dynamodb.get_item(
            TableName=table, Key={"order_id": {"S": order_id}}, ConsistentRead=True
        )
        record = _record(existing.get("Item", {}))
        if record["status"] == REFUNDED:
            logger.info("Payment already refunded", extra=record)
            return record
        raise PaymentStateError(
            f"order {order_id} has no charged payment (status {record['status']})"
        ) from None
    record = _record(response["Attributes"])
    logger.info("Payment refunded", extra=record)
    return record


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=PaymentRequest)
    tracer.put_annotation("order_id", request.order_id)
    if request.action == "charge":
        return charge(request)
    return refund(request.order_id)
