"""Stage 2: every invocation's ## lambda_handler carries the annotation execution_arn, the same in all."""

from __future__ import annotations


import pytest

from tracing import HANDLER_SUBSEGMENT, check_succeeded, expect, handler_spans


def _check(traced) -> None:
    check_succeeded(traced)
    for number, trace in enumerate(traced.traces, start=1):
        handlers = handler_spans(trace)
        expect(handlers, f"expected a {HANDLER_SUBSEGMENT} subsegment in invocation {number}; saw none (stage 1)")
        annotations = handlers[0].annotations
        expect(annotations.get("execution_arn") == traced.arn, (
            f"expected the annotation execution_arn = {traced.arn!r} on {HANDLER_SUBSEGMENT} in every "
            f"invocation; invocation {number} has "
            + (f"execution_arn = {annotations['execution_arn']!r}" if "execution_arn" in annotations else f"only {sorted(annotations) or 'no annotations'}")
            + " — without it nothing ties the invocations' separate traces to one execution"
        ))


def test_every_invocation_is_annotated_with_the_execution_arn_in_process(traced_run):
    _check(traced_run)


@pytest.mark.live
def test_every_invocation_is_annotated_with_the_execution_arn_on_the_stack(live_traced_run):
    _check(live_traced_run)
