"""Lab 3: what the lab runner needs to know beyond its entry in workshop/labs/manifest.py (number, title, service)."""

from __future__ import annotations

from typing import Any

from workshop.labs.model import Stage

GOAL = (
    "Count orders right in a durable function: the namespace and dimensions the dashboards "
    "expect, OrderPlaced once per execution (not once per replay), and the outcome once, when "
    "the execution finishes — nothing for one that is still waiting."
)
# Naming the namespace and the service is part of stage 1.
# PAYMENT_RETRY_MAX_DELAY_S: each payment back-off at the SDK's shortest durable wait (1 s):
# the same failed attempts, retries and replays, without the third second of waiting.
ENV_OVERRIDES: dict[str, str | None] = {"POWERTOOLS_SERVICE_NAME": None, "POWERTOOLS_METRICS_NAMESPACE": None, "PAYMENT_RETRY_MAX_DELAY_S": "1"}
# The runner fires this lab function's waits 20 times sooner (each 1 s back-off after 0.05 s):
# the lesson is the invocations, not the seconds. The warehouse's callback timeout keeps its
# time: the warehouse answers in real time. Nothing else on the stack is sped up.
TIME_SCALE = 20
# Two transient payment errors: the handler runs in at least three invocations.
# make lab-N checks the execution it just ran (the live checks read only that run):
# its payment backoffs are waited out once, not twice.
CHECKS_READ_THE_LIVE_RUN = True
PAYLOAD: dict[str, Any] = {
    "order_id": "lab3-order",
    "customer_id": "c-lab",
    "items": [{"sku": "SKU-BOOK", "quantity": 1}],
    "amount": "19.99",
    "currency": "EUR",
    "simulate": {"transient_payment_errors": 2},
}
OUTCOME_METRICS = ("OrderCompleted", "OrderCompensated", "OrderRejected")

STAGES = [
    Stage(
        1,
        "namespace Workshop, dimension service=order-saga",
        "The dashboards read the namespace Workshop, with the service as a dimension; the "
        "starter writes to a namespace of its own and names no service, so its metrics would "
        "not show there. Give the metrics object both.",
        api=(
            "`Metrics(namespace=\"Workshop\", service=\"order-saga\")`: Powertools adds the "
            "`service` as a dimension on every metric."
        ),
        code="""\
metrics = Metrics(namespace="Workshop", service="order-saga")
""",
    ),
    Stage(
        2,
        "OrderPlaced counted once per execution, not once per invocation",
        "The handler body runs again after every suspension, so a metric added at its top "
        "counts one order once per invocation. Add it where code runs once: inside a step. The "
        "saga takes a hook that it calls inside the reservation step, once the reservation is "
        "written; give it a function that adds the metric, and remove the line at the top.",
        api=(
            "`run_saga(context, order, on_reserved=...)`: `on_reserved` is called inside the "
            "reservation step. In the function you pass, "
            "`metrics.add_metric(name=\"OrderPlaced\", unit=MetricUnit.Count, value=1)`."
        ),
        code="""\
def count_order_placed() -> None:
    \"\"\"Runs inside the reservation step: once per order.\"\"\"
    metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)


# in lambda_handler: no OrderPlaced line at the top any more, and
outcome = run_saga(context, order, on_reserved=count_order_placed)
""",
    ),
    Stage(
        3,
        "the outcome once, when the execution finishes; none while it waits",
        "The SDK suspends an invocation by raising an exception through your code, and a "
        "finally block runs on the way out: every suspended invocation records an outcome. "
        "Add the outcome after the saga returns, with no try/finally around it: the code after "
        "the last suspension runs in exactly one invocation.",
        api=(
            "`metrics.add_metric(name=f\"Order{outcome.status.title()}\", unit=MetricUnit.Count, "
            "value=1)` on the line after `run_saga(...)` returns, before the handler returns "
            "`outcome.to_dict()`; no `try`/`finally`."
        ),
        code="""\
# in lambda_handler: no try/finally, no status = "Pending"
outcome = run_saga(context, order, on_reserved=count_order_placed)
# after the last suspension: runs once, when the execution finishes
metrics.add_metric(
    name=f"Order{outcome.status.title()}", unit=MetricUnit.Count, value=1
)
return outcome.to_dict()
""",
    ),
]


def _metric_names(record: dict[str, Any]) -> list[str]:
    return [m["Name"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]]


def signal_table(invocations: list[list[dict[str, Any]]]) -> Any:
    """One row per EMF record, numbered by the invocation whose log held it."""
    from rich import box

    from workshop.render.tables import table_of

    rows = []
    for number, records in enumerate(invocations, start=1):
        for record in records:
            directive = record["_aws"]["CloudWatchMetrics"][0]
            dims = {d: record.get(d) for group in directive.get("Dimensions", []) for d in group}
            rows.append([str(number), f"{directive['Namespace']} {dims}", ", ".join(_metric_names(record))])
    # no top or bottom border: the table sits in make lab-3's verdict, whose rows are counted
    return table_of("metrics emitted per invocation (EMF records in the function's log)", ["invocation", "namespace / dimensions", "metrics"], rows, box=box.SIMPLE_HEAD)


def show_signal(console: Any, run: Any) -> None:
    """The EMF records per invocation, summed per metric."""
    from collections import Counter

    invocations = run.emf_records()
    totals = Counter(name for records in invocations for record in records for name in _metric_names(record))
    console.print(signal_table(invocations))
    console.print("totals for this execution: " + (", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "none"))
    from workshop.labs.show import show_commands  # with the stack's ports when they are not the defaults

    show_commands(console, "Sum them yourself:", [".venv/bin/workshop", "metrics", "--execution", run.arn])
