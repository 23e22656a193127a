"""Lab 2: what the lab runner needs to know beyond its entry in workshop/labs/manifest.py (number, title, service)."""

from __future__ import annotations

from typing import Any

from workshop.labs.model import Pitfall, Stage

GOAL = (
    "Make the order saga's X-Ray traces tell the truth in a durable function: one clean "
    "## lambda_handler per invocation (a suspension is not a fault), every invocation annotated "
    "with the execution ARN so one query finds them all, and the fraud screen traced once per "
    "execution, not once per replay."
)
# PAYMENT_RETRY_MAX_DELAY_S: each payment back-off at the SDK's shortest durable wait (1 s):
# the same failed attempts, retries and replays, without the third second of waiting.
ENV_OVERRIDES: dict[str, str | None] = {"PAYMENT_RETRY_MAX_DELAY_S": "1"}
# The runner fires this lab function's waits 20 times sooner (each 1 s back-off after 0.05 s):
# the lesson is the invocations, not the seconds. The warehouse's callback timeout keeps its
# time: the warehouse answers in real time. Nothing else on the stack is sped up.
TIME_SCALE = 20
# Two transient payment errors: the handler runs in at least three invocations.
# make lab-N checks the execution it just ran (the live checks read only that run and its
# traces): its payment backoffs are waited out once, not twice.
CHECKS_READ_THE_LIVE_RUN = True
PAYLOAD: dict[str, Any] = {
    "order_id": "lab2-order",
    "customer_id": "c-lab",
    "items": [{"sku": "SKU-BOOK", "quantity": 1}],
    "amount": "19.99",
    "currency": "EUR",
    "simulate": {"transient_payment_errors": 2},
}

STAGES = [
    Stage(
        1,
        "one ## lambda_handler per invocation, and a suspension is not a fault",
        "The SDK suspends an invocation by raising an exception through the handler body. The "
        "tracing decorator sits below the durable one, on that body, so it records every "
        "suspension as a fault. Swap the two decorators: around the whole invocation, on "
        "Lambda's own thread, it sees a normal return.",
        api=(
            "`@tracer.capture_lambda_handler` goes above `@durable_execution`: there it wraps the "
            "whole invocation and records the SDK's `{\"Status\": \"PENDING\"}` as a normal return."
        ),
        code="""\
@tracer.capture_lambda_handler  # above: the whole invocation
@durable_execution
def lambda_handler(event, context):  # the rest as before
""",
    ),
    Stage(
        2,
        "every invocation's ## lambda_handler annotated with the execution ARN",
        "Put the execution's ARN on every invocation's handler segment as an annotation, so one "
        "X-Ray query finds them all. Not from the handler body: it runs on the SDK's worker "
        "thread, where X-Ray holds only a facade segment that cannot be annotated, and the "
        "execution fails. Annotate from outside the SDK, with a decorator between the two, "
        "which still receives the durable envelope with the ARN in it.",
        api=(
            "`annotate_execution`, from `order_saga` (read it in services/_shared/observability.py: "
            "a few lines), is that decorator: put it between `@tracer.capture_lambda_handler` and "
            "`@durable_execution`. No `tracer.put_annotation` in the handler body."
        ),
        code="""\
from order_saga import Order, annotate_execution, parse_order, run_saga


@tracer.capture_lambda_handler
@annotate_execution  # on Lambda's thread, inside ## lambda_handler
@durable_execution
def lambda_handler(event, context):  # the rest as before
""",
    ),
    Stage(
        3,
        "the fraud screen (capture_method) traced once per execution, not once per replay",
        "The fraud screen runs outside any step, so every replay calls it again, and the trace "
        "records every call. Run it inside a step: a completed step is not run again (replays "
        "get its checkpointed result), so the call and its subsegment happen once.",
        api=(
            "`context.step(function, name=\"screen-order\")` runs a function of one argument (a "
            "`StepContext`, from `aws_durable_execution_sdk_python`) once per execution and "
            "returns its result. Keep `@tracer.capture_method` on `screen_order`."
        ),
        code="""\
# beside the other imports
from aws_durable_execution_sdk_python import StepContext

# in lambda_handler, instead of screening = screen_order(order)
def screen(step: StepContext) -> dict[str, Any]:
    return screen_order(order)

screening = context.step(screen, name="screen-order")
""",
    ),
]

# tracer.put_annotation in the handler body fails the execution, so stage 1 fails too: its hint
# (move capture_lambda_handler above @durable_execution) would name what the learner already did.
PITFALLS = [
    Pitfall(
        "FacadeSegment",
        "This is the facade-segment pitfall, not stage 1's: tracer.put_annotation (or "
        "put_metadata) in the handler body runs on the SDK's worker thread, where X-Ray holds only "
        "Lambda's facade segment, and annotating it raises FacadeSegmentMutationException, which "
        "fails the whole execution. Remove it from the body and annotate outside the SDK: a "
        "decorator between @tracer.capture_lambda_handler and @durable_execution, e.g. `from "
        "order_saga import annotate_execution` (services/_shared/observability.py: a few lines).",
    ),
]


def signal_table(rows: list[list[str]], business_call: str) -> Any:
    """One row per invocation (its own trace), its cells as show_signal words them (Rich markup)."""
    from workshop.render.tables import table_of

    headers = [
        "invocation", "returned", "## lambda_handler", "execution_arn on it",
        f"## *.{business_call}", "the saga's business calls", "checkpoint calls",
    ]  # fmt: skip
    return table_of("what X-Ray recorded, per invocation (each invocation is its own trace)", headers, rows)


def show_signal(console: Any, run: Any) -> None:
    """What X-Ray recorded for each invocation of the run."""
    from pathlib import Path

    from workshop.config import StackConfig

    from workshop.labs.model import load_checks_module

    checks = load_checks_module(Path(__file__).parent, "tracing")
    BUSINESS_CALL = checks.BUSINESS_CALL
    business_spans = checks.business_spans
    fault_of = checks.fault_of
    handler_spans = checks.handler_spans
    live_traces = checks.live_traces
    own_spans = checks.own_spans

    try:
        traces = live_traces(StackConfig(), run.arn)
    except Exception as exc:  # noqa: BLE001 - the signal is a help, not a check
        console.print(f"[yellow]could not read the traces: {exc}[/]")
        return
    rows = []
    for number, trace in enumerate(traces, start=1):
        segment = trace.function_segment
        status = segment.annotations.get("durable_status", "?") if segment else "?"
        handlers = handler_spans(trace)
        handler = (
            "none" if not handlers
            else ", ".join(f"[red]{fault_of(h)}[/]" if fault_of(h) else "[green]ok[/]" for h in handlers)
        )  # fmt: skip
        annotated = "[green]✓[/]" if any(h.annotations.get("execution_arn") == run.arn for h in handlers) else "—"
        screens = len(business_spans(trace))
        spans = list(own_spans(trace))
        saga = [str(s.doc.get("name")).removeprefix("## order_saga.") for s in spans if str(s.doc.get("name", "")).startswith("## order_saga.")]
        checkpoints = sum(1 for s in spans if (s.doc.get("aws") or {}).get("operation") == "CheckpointDurableExecution")
        rows.append([str(number), status, handler, annotated, str(screens) if screens else "—", ", ".join(saga) or "—", str(checkpoints)])
    console.print(signal_table(rows, BUSINESS_CALL))
    console.print(
        "(The function host puts execution_arn on its own function segment too, so `workshop traces` can group "
        "any handler's invocations; the column shows the annotation your code puts on ## lambda_handler.)"
    )
    from workshop.labs.show import show_commands  # with the stack's ports when they are not the defaults

    show_commands(console, "The trees themselves:", [".venv/bin/workshop", "traces", "--execution", run.arn])
