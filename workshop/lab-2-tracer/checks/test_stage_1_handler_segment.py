"""Stage 1: one ## lambda_handler per invocation, directly under the function segment, and no fault."""

from __future__ import annotations


from tracing import HANDLER_SUBSEGMENT, check_succeeded, expect, fault_of, handler_spans


def test_one_lambda_handler_subsegment_per_invocation_without_fault(traced_run):
    check_succeeded(traced_run)
    invocations = len(traced_run.traces)
    expect(invocations >= 3, f"the lab's order should take at least 3 invocations; this one took {invocations}")
    counts = {n: len(handler_spans(t)) for n, t in enumerate(traced_run.traces, start=1)}
    wrong = {n: c for n, c in counts.items() if c != 1}
    expect(not wrong, (
        f"expected one {HANDLER_SUBSEGMENT} subsegment in each of the {invocations} invocations' traces; saw "
        + ", ".join(f"{c} in invocation {n}" for n, c in wrong.items())
        + " (is @tracer.capture_lambda_handler on the handler?)"
    ))
    for number, trace in enumerate(traced_run.traces, start=1):
        [handler] = handler_spans(trace)
        expect(handler.doc.get("name") == HANDLER_SUBSEGMENT, (
            f"expected the subsegment of capture_lambda_handler to be named {HANDLER_SUBSEGMENT}; in invocation "
            f"{number} it is {handler.doc.get('name')!r}: capture_lambda_handler names it after the function it "
            "wraps, so a decorator of yours between it and the handler needs @functools.wraps(handler)"
        ))
        expect(trace.function_segment and handler.doc.get("parent_id") == trace.function_segment.doc["id"], (
            f"expected {HANDLER_SUBSEGMENT} directly under the invocation's function segment; in invocation "
            f"{number} it hangs under {handler.doc.get('parent_id')!r}"
        ))
    faults = {n: fault_of(handler_spans(t)[0]) for n, t in enumerate(traced_run.traces, start=1)}
    faults = {n: f for n, f in faults.items() if f}
    expect(not faults, (
        f"expected every {HANDLER_SUBSEGMENT} to end without a fault: a durable function waits by "
        f"suspending, which is not an error; saw {len(faults)} of {invocations} invocations recorded as faults ("
        + ", ".join(f"invocation {n}: {f}" for n, f in faults.items())
        + ") — below @durable_execution, capture_lambda_handler sees the exception the SDK suspends with"
    ))
