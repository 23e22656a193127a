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
# The runner fires this lab function's waits 20 times sooner (each 1 s back-off after 0.05 s):
# the lesson is the invocations, not the seconds. The warehouse's callback timeout keeps its
# time: the warehouse answers in real time. Nothing else on the stack is sped up.
TIME_SCALE = 20
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
        "Every line says service_undefined, and nothing on it tells which function or request "
        "wrote it. Give the logger the service's name, and let it read Lambda's own context "
        "object on every invocation. Mind the decorator order: only above the durable wrapper "
        "does it receive Lambda's context; below it, it receives the SDK's.",
        api=(
            "`Logger(service=\"order-saga\")` names the service; the decorator "
            "`@logger.inject_lambda_context` puts function_name, function_request_id and "
            "cold_start on every line. It goes above `@durable_execution`, which hands the "
            "function below it a `DurableContext` instead of Lambda's context."
        ),
        code="""\
logger = Logger(service="order-saga")


@logger.inject_lambda_context  # above: it sees Lambda's context object
@metrics.log_metrics
@durable_execution
def lambda_handler(event, context):  # the rest as before
""",
    ),
    Stage(
        2,
        "every business message once per execution, not once per invocation",
        "The handler body runs again from the top after every suspension, so a log call in it "
        "writes once per invocation, not once per execution. Hand your logger to the durable "
        "context and log through the context's logger instead: it writes through yours (JSON, "
        "the Lambda context) and drops the records of a replay.",
        api=(
            "`context.set_logger(logger)` first thing in the handler, then "
            "`context.logger.info(...)` instead of `logger.info(...)` for both business messages."
        ),
        code="""\
# in lambda_handler
context.set_logger(logger)  # first thing

order = parse_order(event)
context.logger.info(
    "Order received",
    extra={"order_id": order.order_id, "items": len(order.items)},
)
outcome = run_saga(context, order)
context.logger.info(
    "Order finished",
    extra={"order_id": order.order_id, "status": str(outcome.status)},
)
""",
    ),
    Stage(
        3,
        "every line carries the execution ARN, the same in every invocation",
        "Each invocation has its own request id, so nothing on a line ties one execution's "
        "invocations together. The execution's ARN does: it is the same in every invocation. "
        "Add it to every line as the key execution_arn (what the Powertools page's query "
        "filters on), at the top of the handler, so lines written outside the durable "
        "context's logger carry it too.",
        api=(
            "`logger.append_keys(execution_arn=...)` with "
            "`context.execution_context.durable_execution_arn`. Plain `append_keys`: keys added "
            "with `thread_safe_append_keys` outside the durable thread are lost."
        ),
        code="""\
# in lambda_handler, before the first log line
arn = context.execution_context.durable_execution_arn
logger.append_keys(execution_arn=arn)
""",
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
