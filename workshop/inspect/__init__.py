"""Reading the local stack (workshop.inspect.client): used by the CLI, the lab runner, the tools and the checks.

What the package holds besides the client, all without a console: the history
events (events), log lines (loglines) and the timeline assembled from them
(timeline), one execution read back (execution), the X-Ray traces (traces),
EMF parsing (emf) and the metrics per invocation (metrics). Import those from
their modules; this package re-exports the client only.
"""

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
