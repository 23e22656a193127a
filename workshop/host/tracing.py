"""X-Ray for the function host: the trace header of an invocation and the function's own segment.

On AWS, with active tracing, the Lambda service starts a trace per invocation
(or continues the caller's), records an `AWS::Lambda::Function` segment for
it, and hands the function `_X_AMZN_TRACE_ID=Root=<trace>;Parent=<that
segment's id>;Sampled=1`. Inside the function the X-Ray SDK only ever sends
subsegments (`## handler`, `## module.fn`, AWS calls) whose parent is that
Parent id: without the service's segment they would hang under an id nobody
sent. The host plays the service's part: `trace_header()` makes the header,
`emit_function_segment()` sends the segment with that id when the invocation
ends, to the X-Ray sink over UDP (the daemon protocol).

Sending is fire and forget: tracing must never fail, slow or change an invocation.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import time
from typing import Any

from workshop.config import ACCOUNT_ID

log = logging.getLogger("function_host.tracing")

DAEMON_HEADER = b'{"format": "json", "version": 1}\n'


def trace_header() -> tuple[str, str, str]:
    """A fresh X-Ray trace header, as the Lambda service sets one per invocation: (header, root, parent)."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    parent = secrets.token_hex(8)
    return f"Root={root};Parent={parent};Sampled=1", root, parent


def function_segment(
    *,
    function: str,
    function_arn: str,
    request_id: str,
    root: str,
    parent: str,
    start: float,
    end: float,
    execution_arn: str | None = None,
    result: Any = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `AWS::Lambda::Function` segment document of one invocation.

    `execution_arn` (a durable invocation's DurableExecutionArn) becomes an
    annotation, so one query finds every invocation of an execution even
    when the handler annotates nothing; a durable handler's returned Status
    (PENDING: suspended, SUCCEEDED/FAILED: the execution ended here) too.
    """
    segment: dict[str, Any] = {
        "name": function,
        "id": parent,
        "trace_id": root,
        "start_time": start,
        "end_time": max(end, start),
        "origin": "AWS::Lambda::Function",
        "resource_arn": function_arn,
        "aws": {"account_id": ACCOUNT_ID, "function_arn": function_arn, "request_id": request_id},
    }
    annotations: dict[str, Any] = {}
    if execution_arn:
        annotations["execution_arn"] = execution_arn
        if isinstance(result, dict) and isinstance(result.get("Status"), str):
            annotations["durable_status"] = result["Status"]
    if annotations:
        segment["annotations"] = annotations
    if error:
        # An unhandled error is a fault of the function's segment, as Lambda records it.
        segment["fault"] = True
        segment["cause"] = {
            "exceptions": [
                {"id": secrets.token_hex(8), "type": str(error.get("errorType", "Error")), "message": str(error.get("errorMessage", ""))[:1000]}
            ]
        }
    return segment


def send_segment(address: tuple[str, int], segment: dict[str, Any]) -> bool:
    """One datagram to the X-Ray daemon (here: the sink). False, never an exception, when it fails."""
    try:
        data = DAEMON_HEADER + json.dumps(segment, separators=(",", ":"), default=str).encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(data, address)
        return True
    except Exception as exc:  # noqa: BLE001 - UDP, fire and forget: a lost segment is all it may cost
        log.debug("could not send the function segment to %s:%s: %s", *address, exc)
        return False


def emit_function_segment(address: tuple[str, int], **fields: Any) -> bool:
    """Build and send an invocation's function segment (fields: see function_segment). Never raises."""
    try:
        return send_segment(address, function_segment(**fields))
    except Exception as exc:  # noqa: BLE001 - a bad field must not fail the invocation
        log.debug("could not build the function segment: %s", exc)
        return False
