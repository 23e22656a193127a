"""Exceptions shared by the saga and the functions it calls.

The payment function raises ``PaymentTransientError`` and
``PaymentDeclinedError``; the saga sees them only as the *type name* recorded
on the failed chained invoke (``InvokeError.error_type``). Lambda reports the
bare class name ("PaymentDeclinedError") while the in-process test runner
records the qualified one ("order_saga.errors.PaymentDeclinedError"), so
``error_name`` compares the last dotted segment only.
"""

from __future__ import annotations


class InvalidOrderError(ValueError):
    """The order payload failed validation; the saga stops before any step."""


class PaymentTransientError(RuntimeError):
    """The payment provider is temporarily unavailable: retrying may succeed."""


class PaymentDeclinedError(RuntimeError):
    """The card was declined: retrying will not help, the saga compensates."""


class PaymentStateError(RuntimeError):
    """A refund was asked for a payment that is not charged."""


def error_name(error_type: str | None) -> str:
    """The bare class name of an error type as recorded by Lambda or the test runner."""
    return (error_type or "").rsplit(".", 1)[-1]
