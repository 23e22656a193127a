"""Lab 1: what the lab runner needs to know beyond its entry in workshop/labs/manifest.py (number, title, service)."""

from __future__ import annotations

from typing import Any

from workshop.labs.model import Stage

GOAL = (
    "Make the order saga's logs useful in a durable function: structured JSON with the Lambda "
    "context, every business message once per execution (not once per replay), and one key "
    "that finds the whole execution."
)
# The lab's function gets the saga's environment without POWERTOOLS_SERVICE_NAME:
# naming the service is part of stage 1.
# PAYMENT_RETRY_MAX_DELAY_S: each payment back-off at the SDK's shortest durable wait (1 s):
# the same failed attempts, retries and replays, without the third second of waiting.
ENV_OVERRIDES: dict[str, str | None] = {"POWERTOOLS_SERVICE_NAME": None, "PAYMENT_RETRY_MAX_DELAY_S": "1"}
# Two transient payment errors: the handler runs in at least three invocations.
# make lab-N checks the execution it just ran (the live checks read only that run):
# its payment backoffs are waited out once, not twice.
CHECKS_READ_THE_LIVE_RUN = True
PAYLOAD: dict[str, Any] = {
    "order_id": "lab1-order",
    "customer_id": "c-lab",
    "items": [{"sku": "SKU-BOOK", "quantity": 1}],
    "amount": "19.99",
    "currency": "EUR",
    "simulate": {"transient_payment_errors": 2},
}
BUSINESS_MESSAGES = ("Order received", "Order finished")

STAGES = [
    Stage(
        1,
        "structured JSON with the service name and the Lambda context",
        "Give the Logger a service name (Logger(service=\"order-saga\")) and put "
        "@logger.inject_lambda_context on the handler, above @durable_execution: there it "
        "receives Lambda's context object, so every line carries function_name and "
        "function_request_id.",
    ),
    Stage(
        2,
        "every business message once per execution, not once per invocation",
        "The handler body runs again after every suspension. Call context.set_logger(logger) "
        "at the top of the handler and log with context.logger.info(...) instead of "
        "logger.info(...): the SDK drops records while it replays.",
    ),
    Stage(
        3,
        "every line carries the execution ARN, the same in every invocation",
        "Add logger.append_keys(execution_arn=context.execution_context.durable_execution_arn) "
        "at the top of the handler (plain append_keys: thread_safe_append_keys set outside the "
        "durable thread are lost). Then `filter execution_arn = \"...\"` finds the whole execution.",
    ),
]


def signal_table(invocations: list[list[dict[str, Any]]]) -> Any:
    """Per invocation (its JSON log records), how often each business message was written."""
    from workshop.render.tables import table_of

    rows = [
        [str(number), *(str(sum(1 for r in records if r.get("message") == m)) for m in BUSINESS_MESSAGES), str(len(records))]
        for number, records in enumerate(invocations, start=1)
    ]
    return table_of("business log lines per invocation", ["invocation", *BUSINESS_MESSAGES, "all JSON log lines"], rows)


def show_signal(console: Any, run: Any) -> None:
    """Log lines per invocation, and how often each business message was written."""
    console.print(signal_table(run.log_records()))
    from workshop.labs.show import show_commands  # with the stack's ports when they are not the defaults

    show_commands(console, "Read them yourself:", [".venv/bin/workshop", "logs", run.function or "lab-1-logger", "--execution", run.arn])
