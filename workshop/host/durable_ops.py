"""Which durable API requests the host passes to the runner, and what it answers for the rest.

Why a table of our own: the host used to pass anything under /2025-12-01/
to dex-local-runner, whose answers to what it does not serve are not
Lambda's: an unknown path was a 500 ServiceException ("Unknown path
pattern"), a DELETE an HTML 501 page, neither of which botocore reads as a
client error. The fuzz tests (tests/integration/test_host_fuzz_live.py)
found both. Now a request is matched here first, on its raw path (percent-
encoding kept, so an ARN's encoded slashes stay inside one segment):
the runner's operations are passed on; AWS operations the runner does not
implement, and paths that are no operation at all, are answered by the
host as Lambda answers an unknown operation.
"""

from __future__ import annotations

import json
import re

from workshop.host.errors import AwsError

_ONE = r"[^/?]+"  # one path segment, percent-encoded
_API = "/2025-12-01"

# (method, path pattern, AWS operation) for what dex-local-runner serves
RUNNER_OPERATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(f"^{_API}{pattern}$"), operation)
    for method, pattern, operation in (
        ("GET", "/durable-executions", "ListDurableExecutions"),
        ("GET", f"/durable-executions/{_ONE}", "GetDurableExecution"),
        ("GET", f"/durable-executions/{_ONE}/history", "GetDurableExecutionHistory"),
        ("GET", f"/durable-executions/{_ONE}/state", "GetDurableExecutionState"),
        ("POST", f"/durable-executions/{_ONE}/checkpoint", "CheckpointDurableExecution"),
        ("POST", f"/durable-executions/{_ONE}/stop", "StopDurableExecution"),
        ("GET", f"/functions/{_ONE}/durable-executions", "ListDurableExecutionsByFunction"),
        ("POST", f"/durable-execution-callbacks/{_ONE}/succeed", "SendDurableExecutionCallbackSuccess"),
        ("POST", f"/durable-execution-callbacks/{_ONE}/fail", "SendDurableExecutionCallbackFailure"),
        ("POST", f"/durable-execution-callbacks/{_ONE}/heartbeat", "SendDurableExecutionCallbackHeartbeat"),
    )
)
# AWS operations (botocore's lambda model) the local runner has no route for
NOT_IMPLEMENTED: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(f"^{_API}{pattern}$"), operation)
    for method, pattern, operation in (
        ("DELETE", f"/durable-executions/{_ONE}", "DeleteDurableExecution"),
        ("POST", f"/durable-executions/{_ONE}/pause", "PauseDurableExecution"),
        ("POST", f"/durable-executions/{_ONE}/resume", "ResumeDurableExecution"),
    )
)


def check_served(method: str, path: str) -> str:
    """The runner operation this request is (its name), or the AwsError the host answers instead."""
    for wanted, pattern, operation in RUNNER_OPERATIONS:
        if method == wanted and pattern.match(path):
            return operation
    for wanted, pattern, operation in NOT_IMPLEMENTED:
        if method == wanted and pattern.match(path):
            raise AwsError(400, "InvalidRequestContentException", f"{operation} is an AWS API the local durable runner does not implement.")
    raise AwsError(404, "UnknownOperationException", f"The function host does not serve {method} {path}")


def aws_error_body(status: int, payload: bytes) -> tuple[str, bytes] | None:
    """The runner's error answer in AWS's shape: (error type, JSON body), or None when it already is."""
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("Type"), str) and isinstance(parsed.get("message") or parsed.get("Message"), str):
        return None
    text = payload.decode("utf-8", errors="replace").strip()[:500] or f"HTTP {status}"
    error_type = parsed.get("Type") if isinstance(parsed, dict) and isinstance(parsed.get("Type"), str) else "ServiceException"
    message = f"the durable runner answered {status}: {text}"
    return error_type, json.dumps({"Type": error_type, "message": message, "Message": message}).encode()
