"""What lab 2's checks read: the X-Ray documents of each invocation of one execution.

Two ways to get them, with the same shape (`TracedRun`: the run, and one
`workshop.inspect.traces.TraceView` per invocation, in order), so a check is written once:

- in-process: the handler runs under DurableFunctionTestRunner (via
  workshop.labs.harness.saga.run_saga) with Powertools Tracer enabled in Lambda
  mode; the X-Ray SDK sends its subsegments over UDP to a receiver in this
  process. Each invocation gets a fresh `_X_AMZN_TRACE_ID`, and the
  function's own segment is added the way the function host adds it on the
  stack (workshop.host.tracing), so the trees look like the live ones.
- live: a real execution on the stack (workshop.labs.harness.live); the
  documents come from the X-Ray sink.

In-process, the payment and warehouse functions run in the same process and
would write their `## lambda_handler` into the saga's traces (X-Ray's trace
header is one environment variable); they run under a subsegment named
OTHER_FUNCTION_PREFIX + name, and `own_spans` leaves those out.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from workshop.host.tracing import function_segment, trace_header
from workshop.labs.harness.in_process import environment
from workshop.labs.harness.live import live_run
from workshop.labs.harness.saga import run_saga
from workshop.labs.run import ExecutionRun
from workshop.inspect.traces import Span, TraceView, build_traces

HANDLER_SUBSEGMENT = "## lambda_handler"
BUSINESS_CALL = "screen_order"
OTHER_FUNCTION_PREFIX = "in-process: "  # X-Ray drops characters such as parentheses from names
IN_PROCESS_FUNCTION = "lab-2-tracer"


# ------------------------------------------------------------------ shape
@dataclass
class TracedRun:
    run: ExecutionRun
    traces: list[TraceView]  # one per invocation, in order

    @property
    def arn(self) -> str:
        return self.run.arn


def own_spans(trace: TraceView) -> Iterator[Span]:
    """Every span of the invocation's trace, without the other functions' (in-process only)."""

    def walk(span: Span) -> Iterator[Span]:
        if str(span.doc.get("name", "")).startswith(OTHER_FUNCTION_PREFIX):
            return
        yield span
        for child in span.children:
            yield from walk(child)

    for root in trace.roots:
        yield from walk(root)


def handler_spans(trace: TraceView) -> list[Span]:
    """capture_lambda_handler's subsegments: `## <the decorated function's __name__>`, annotated ColdStart."""
    return [
        span for span in own_spans(trace)
        if span.doc.get("name") == HANDLER_SUBSEGMENT or "ColdStart" in span.annotations
    ]  # fmt: skip


def business_spans(trace: TraceView) -> list[Span]:
    return [span for span in own_spans(trace) if str(span.doc.get("name", "")).endswith(f".{BUSINESS_CALL}")]


def fault_of(span: Span) -> str | None:
    """'fault: SuspendExecution' or None."""
    doc = span.doc
    if not (doc.get("fault") or doc.get("error")):
        return None
    cause = doc.get("cause")
    exceptions = cause.get("exceptions") if isinstance(cause, dict) else None
    kind = exceptions[0].get("type", "Error") if exceptions else "Error"
    return f"{'fault' if doc.get('fault') else 'error'}: {kind}"


def expect(condition: Any, message: str) -> None:
    """An assertion whose failure is only the learner-facing message (no pytest introspection)."""
    if not condition:
        raise AssertionError(message)


def check_succeeded(traced: TracedRun) -> None:
    run = traced.run
    if run.status == "SUCCEEDED":
        return
    error = run.error
    if isinstance(error, dict):  # live: the execution's Error
        text = f"{error.get('ErrorType', '')}: {error.get('ErrorMessage', '')}"
    else:  # in-process: the test runner's ErrorObject
        text = f"{getattr(error, 'type', '')}: {getattr(error, 'message', '')}" if error else ""
    why = ""
    if "not subscriptable" in text:
        why = (
            " — in-process, the test runner hands the durable envelope to the handler as an object, not a "
            "dict: read the ARN with execution_arn_of(event) from order_saga.observability (or use its "
            "annotate_execution decorator), which handles both"
        )
    if "FacadeSegment" in text:
        why = (
            " — tracer.put_annotation inside the durable handler runs on the SDK's worker thread, whose "
            "X-Ray context holds only Lambda's facade segment, and a facade segment cannot be annotated. "
            "Annotate outside the SDK: a decorator between @tracer.capture_lambda_handler and @durable_execution."
        )
    raise AssertionError(f"expected the order's execution to succeed; it ended {run.status}: {text}{why}")


# --------------------------------------------------------------- in-process
class UdpReceiver:
    """The X-Ray daemon's side of the protocol, in this process: keeps every document it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.documents: list[dict[str, Any]] = []
        self.last_received = 0.0
        self._lock = threading.Lock()
        threading.Thread(target=self._loop, name="lab2-xray-receiver", daemon=True).start()

    def _loop(self) -> None:
        while True:
            data, _ = self.sock.recvfrom(65_535)
            _, _, body = data.decode("utf-8", errors="replace").partition("\n")
            try:
                document = json.loads(body)
            except ValueError:
                continue
            with self._lock:
                self.documents.append(document)
                self.last_received = time.monotonic()

    def settle(self, quiet_s: float = 0.15, max_s: float = 2.0) -> list[dict[str, Any]]:
        """The documents, once nothing has arrived for quiet_s."""
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline and time.monotonic() - self.last_received < quiet_s:
            time.sleep(0.05)
        with self._lock:
            return list(self.documents)


def lambda_mode_env(receiver: UdpReceiver, task_root: str) -> dict[str, str]:
    """What makes Powertools Tracer and the X-Ray SDK behave as inside Lambda (read at import)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": IN_PROCESS_FUNCTION,
        "LAMBDA_TASK_ROOT": task_root,
        "AWS_XRAY_DAEMON_ADDRESS": receiver.address,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "POWERTOOLS_TRACE_DISABLED": "false",  # "false", not unset: the plugin's setdefault would disable it
        "_X_AMZN_TRACE_ID": quiet_header(),
    }


def quiet_header() -> str:
    """A trace header that records nothing (Sampled=0): between invocations and outside them."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


def _apart(name: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def run(event: Any, context: Any) -> Any:
        from aws_xray_sdk.core import xray_recorder

        with xray_recorder.in_subsegment(OTHER_FUNCTION_PREFIX + name):
            return handler(event, context)

    return run


def run_traced_in_process(handler: Callable[[Any, Any], Any], payload: dict[str, Any], receiver: UdpReceiver) -> TracedRun:
    import pytest
    from aws_xray_sdk.core import xray_recorder
    from order_saga import payment, warehouse
    from order_saga.observability import execution_arn_of

    xray_recorder.configure(daemon_address=receiver.address)
    segments: list[dict[str, Any]] = []

    def one_invocation(event: Any, context: Any) -> Any:
        header, root, parent = trace_header()  # what the Lambda service (the function host) does
        os.environ["_X_AMZN_TRACE_ID"] = header
        started, result, error = time.time(), None, None
        try:
            result = handler(event, context)
            return result
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            raise
        finally:
            os.environ["_X_AMZN_TRACE_ID"] = quiet_header()
            segments.append(function_segment(
                function=IN_PROCESS_FUNCTION, function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{IN_PROCESS_FUNCTION}",
                request_id=str(uuid.uuid4()), root=root, parent=parent, start=started, end=time.time(),
                execution_arn=execution_arn_of(event), result=result, error=error,
            ))  # fmt: skip

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(payment, "lambda_handler", _apart("payment function", payment.lambda_handler))
        patch.setattr(warehouse, "lambda_handler", _apart("warehouse function", warehouse.lambda_handler))
        run = run_saga(one_invocation, payload)
    received = receiver.settle()
    if not received:
        raise AssertionError(
            "the in-process X-Ray receiver got nothing: Tracer was not enabled in Lambda mode "
            "(run this lab's checks on their own: python -m workshop.labs run 2)"
        )
    roots = {segment["trace_id"] for segment in segments}
    traces = {trace.trace_id: trace for trace in build_traces([d for d in received if d.get("trace_id") in roots] + segments)}
    return TracedRun(run=run, traces=[traces[segment["trace_id"]] for segment in segments])


# --------------------------------------------------------------------- live
def live_traces(config: Any, arn: str, deadline_s: float = 10.0) -> list[TraceView]:
    """Each invocation's trace from the stack's X-Ray sink, in the order the function host ran them."""
    from workshop.inspect import Services
    from workshop.inspect.traces import fetch_segments

    entries = sorted(Services(config=config).invocations(execution_arn=arn), key=lambda e: e.get("start") or 0.0)
    wanted = [e["request_id"] for e in entries]
    deadline = time.monotonic() + deadline_s
    while True:
        by_request = {t.request_id: t for t in build_traces(fetch_segments(config, request_id=wanted)) if t.function_segment}
        if all(r in by_request for r in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    missing = [r for r in wanted if r not in by_request]
    if missing:
        raise AssertionError(
            f"the X-Ray sink has no function segment for {len(missing)} of the {len(wanted)} invocations of {arn} "
            "(the function host emits one per invocation: if it was started before it had tracing, "
            "restart the stack with `make down && make up`)"
        )
    return [by_request[r] for r in wanted]


# The stack's processes (started by a check when it is down) must not inherit this process's Lambda-mode settings.
STACK_CLEAN: dict[str, str | None] = {
    key: None for key in ("AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT", "AWS_XRAY_DAEMON_ADDRESS", "AWS_XRAY_CONTEXT_MISSING", "POWERTOOLS_TRACE_DISABLED")
}


def run_traced_live(lab: Any, target: str) -> TracedRun:
    """One real execution of the lab's handler on the local stack, or make lab-2's own read back."""
    from workshop.config import StackConfig

    with environment({**STACK_CLEAN, "_X_AMZN_TRACE_ID": quiet_header()}):
        config = StackConfig()
        run = live_run(lab, target, config=config)  # make lab-2's execution, if it just ran one: its traces are in the sink
        return TracedRun(run=run, traces=live_traces(config, run.arn))
