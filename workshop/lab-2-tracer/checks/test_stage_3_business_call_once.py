"""Stage 3: the traced business call (capture_method) is recorded once per execution, not once per replay."""

from __future__ import annotations


import pytest

from tracing import BUSINESS_CALL, business_spans, check_succeeded, expect


def _check(traced) -> None:
    check_succeeded(traced)
    invocations = len(traced.traces)
    expect(invocations >= 3, f"the lab's order should take at least 3 invocations; this one took {invocations}")
    seen = [n for n, trace in enumerate(traced.traces, start=1) for _ in business_spans(trace)]
    expect(len(seen) == 1, (
        f"expected the ## ….{BUSINESS_CALL} subsegment once in the execution's {invocations} invocations; saw "
        + (
            f"it {len(seen)} times (invocations {', '.join(map(str, seen))}) — code outside a step runs again in "
            "every invocation, and so does the call the trace records"
            if seen
            else f"none (keep @tracer.capture_method on {BUSINESS_CALL}, and call it inside a step)"
        )
    ))


def test_fraud_screen_traced_once_in_process(traced_run):
    _check(traced_run)


@pytest.mark.live
def test_fraud_screen_traced_once_on_the_stack(live_traced_run):
    _check(live_traced_run)
