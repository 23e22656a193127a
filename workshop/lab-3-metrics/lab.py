"""Lab 3: what the lab runner needs to know beyond its entry in workshop/labs/manifest.py (number, title, service)."""

from __future__ import annotations

import shlex
from typing import Any

from workshop.labs.model import Stage

GOAL = (
    "Count orders right in a durable function: the namespace and dimensions the dashboards "
    "expect, OrderPlaced once per execution (not once per replay), and the outcome once, when "
    "the execution finishes — nothing for one that is still waiting."
)
# Naming the namespace and the service is part of stage 1.
ENV_OVERRIDES: dict[str, str | None] = {"POWERTOOLS_SERVICE_NAME": None, "POWERTOOLS_METRICS_NAMESPACE": None}
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
        'Create the Metrics object with Metrics(namespace="Workshop", service="order-saga"). '
        "Powertools adds the service as a dimension on every metric.",
    ),
    Stage(
        2,
        "OrderPlaced counted once per execution, not once per invocation",
        "The handler body runs again after every suspension. Add OrderPlaced where code runs "
        "once: inside a step. run_saga(context, order, on_reserved=count_order_placed) calls "
        "your function inside the reservation step.",
    ),
    Stage(
        3,
        "the outcome once, when the execution finishes; none while it waits",
        "A suspension unwinds through your finally block, so the starter records an outcome in "
        "every suspended invocation. Add the outcome metric after run_saga(...) returns, "
        "without try/finally: that line runs only in the last invocation.",
    ),
]


def show_signal(console: Any, run: Any) -> None:
    """The EMF records per invocation, summed per metric."""
    from collections import Counter

    from rich.table import Table

    totals: Counter[str] = Counter()
    table = Table(title="metrics emitted per invocation (EMF records in the function's log)")
    table.add_column("invocation")
    table.add_column("namespace / dimensions")
    table.add_column("metrics")
    for number, records in enumerate(run.emf_records(), start=1):
        for record in records:
            directive = record["_aws"]["CloudWatchMetrics"][0]
            names = [m["Name"] for m in directive["Metrics"]]
            dims = {d: record.get(d) for group in directive.get("Dimensions", []) for d in group}
            totals.update(names)
            table.add_row(str(number), f"{directive['Namespace']} {dims}", ", ".join(names))
    console.print(table)
    console.print("totals for this execution: " + (", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "none"))
    from workshop.labs.show import stack_command  # with the stack's ports when they are not the defaults

    console.print("Sum them yourself: " + stack_command(f".venv/bin/workshop metrics --execution {shlex.quote(run.arn)}"))
