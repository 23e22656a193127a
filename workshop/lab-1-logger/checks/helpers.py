"""What lab 1's checks look for in an execution's log lines."""

from __future__ import annotations

from typing import Any

BUSINESS_MESSAGES = ("Order received", "Order finished")


def business_records(run: Any) -> list[tuple[int, dict[str, Any]]]:
    """(invocation number, record) of every business message the handler logged."""
    return [
        (number, record)
        for number, records in enumerate(run.log_records(), start=1)
        for record in records
        if record.get("message") in BUSINESS_MESSAGES
    ]


def handler_records(run: Any) -> list[tuple[int, dict[str, Any]]]:
    """Business messages plus the lines the saga's steps log (they carry an operation name)."""
    return [
        (number, record)
        for number, records in enumerate(run.log_records(), start=1)
        for record in records
        if record.get("message") in BUSINESS_MESSAGES or "operationName" in record
    ]
