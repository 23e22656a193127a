"""Reading the local stack (workshop.inspect.client): used by the CLI, the lab runner, the tools and the checks."""

from workshop.inspect.client import (
    TERMINAL,
    InspectError,
    Services,
    error_text,
    fetch_history,
    invocation_logs,
    not_running_message,
    read_stream,
    split_qualifier,
)

__all__ = [
    "TERMINAL",
    "InspectError",
    "Services",
    "error_text",
    "fetch_history",
    "invocation_logs",
    "not_running_message",
    "read_stream",
    "split_qualifier",
]
