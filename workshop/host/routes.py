"""The function host's HTTP operations: one handler per operation, listed in ROUTES.

A handler takes the backend (FunctionHost) and the parsed Call and returns a
Reply; it never sees the web framework. It may block (a synchronous Invoke
waits for its execution: it runs in a worker thread) or be a coroutine
function (the durable API pass-through: it runs on the event loop).
workshop.host.server turns ROUTES into the ASGI app.

  POST /2015-03-31/functions/{name}/invocations   Invoke
       - marked by the runner (X-Dex-Handler-Invoke: true): run the handler once
       - a client's Invoke of a durable function: start an execution in the runner
       - a plain function: run it once (Event: in the background)
  *    /2025-12-01/...                             durable APIs the runner serves, passed to it (durable_ops.py)
  GET  /_workshop/health                           readiness (not an AWS route)
  GET  /_workshop/invocations                      which invocation served which execution
  GET  /_workshop/workers                          the worker processes, for `make status`
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from workshop.host import async_invoke, durable_ops, errors
from workshop.host.backend import ASYNC_PAYLOAD_LIMIT, SYNC_PAYLOAD_LIMIT, FunctionHost
from workshop.host.errors import AwsError
from workshop.host.names import executed_version, split_function_name
from workshop.host.runner_client import json_or_text

_CALLBACK_PATH = re.compile(r"^/2025-12-01/durable-execution-callbacks/(?P<id>[^/]+)/(succeed|fail|heartbeat)$")
# what the runner needs of a client's request (it checks none of the SigV4 headers, but they cost nothing to keep)
_PASSED_TO_RUNNER = ("content-type", "authorization", "x-amz-date", "x-amz-content-sha256")


@dataclass(frozen=True)
class Call:
    """One request as the handlers see it."""

    method: str
    raw_path: str  # percent-encoding kept, query included: passed to the runner as the client sent it
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


# A handler blocks (it runs in a worker thread) unless it is a coroutine function.
Operation = Callable[[FunctionHost, Call], Reply | Awaitable[Reply]]


def health(host: FunctionHost, call: Call) -> Reply:
    return Reply(200, b'{"status": "ok"}')


def invocations(host: FunctionHost, call: Call) -> Reply:
    entries = host.invocations.query(call.query.get("execution"), call.query.get("function"))
    return Reply(200, json.dumps({"Invocations": entries}).encode())


def workers(host: FunctionHost, call: Call) -> Reply:
    return Reply(200, json.dumps({"Workers": host.pool.snapshot()}).encode())


async def durable_api(host: FunctionHost, call: Call) -> Reply:
    """The durable management APIs and the SDK's checkpoints go to the runner unchanged.

    The one handler that runs on the event loop: it only waits on the runner,
    and it is the hottest path (several checkpoints per step).
    """
    durable_ops.check_served(call.method, urllib.parse.urlsplit(call.raw_path).path)  # else an AwsError: not the runner's to answer
    headers = {key: call.headers[key] for key in _PASSED_TO_RUNNER if key in call.headers}
    answer = await host.runner.forward(call.method, call.raw_path, call.body or None, headers)
    status, payload, extra = answer.status, answer.body, {"Content-Type": answer.content_type}
    if status >= 400:
        parsed = json_or_text(payload)
        if isinstance(parsed, dict) and isinstance(parsed.get("Type"), str):
            extra["x-amzn-ErrorType"] = parsed["Type"]
        reshaped = durable_ops.aws_error_body(status, payload)
        if reshaped is not None:  # an HTML page or bare text: botocore needs the type and a message
            extra["x-amzn-ErrorType"], payload = reshaped
            extra["Content-Type"] = "application/json"
        callback = _CALLBACK_PATH.match(urllib.parse.urlsplit(call.raw_path).path)
        if callback and status == 404:
            # The runner's text here is an internal decode error; say what it means.
            message = f"Callback {urllib.parse.unquote(callback['id'])} was not found: no execution is waiting on a callback with this id."
            payload = json.dumps({"Type": "ResourceNotFoundException", "message": message, "Message": message}).encode()
            extra["x-amzn-ErrorType"] = "ResourceNotFoundException"
    return Reply(status, payload, extra)


def invoke(host: FunctionHost, call: Call) -> Reply:
    """Lambda's Invoke: a handler run, or a durable execution started (and waited for when synchronous)."""
    name, qualifier = split_function_name(call.path_params["name"], call.query.get("Qualifier"))
    function = host.registry.function(name, qualifier)
    invocation_type = call.headers.get("x-amz-invocation-type", "RequestResponse")
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise errors.invalid_parameter(f"Invalid InvocationType {invocation_type!r}: use RequestResponse, Event or DryRun.")
    limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
    if len(call.body) > limit:
        raise errors.too_large(f"{len(call.body)} byte payload is too large for the {invocation_type} invocation type (limit {limit} bytes)")
    text = call.body.decode("utf-8", errors="replace") if call.body else "{}"
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise errors.invalid_content(f"Could not parse request body into json: {exc}") from exc
    executed = {"X-Amz-Executed-Version": executed_version(function, qualifier)}  # an alias's version, "1" (names.py)

    if call.headers.get("x-dex-handler-invoke", "").lower() == "true" or not function.get("durable"):
        if invocation_type == "DryRun":
            return Reply(204)
        if invocation_type == "Event":
            threading.Thread(target=async_invoke.run_event, args=(host, name, qualifier, event), daemon=True).start()
            return Reply(202, b"", executed)
        outcome = host.run_handler(name, qualifier, event, call.headers.get("x-amz-tenant-id"))
        headers = {**executed, "x-amzn-RequestId": outcome.request_id}
        if outcome.failed:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return Reply(200, json.dumps(outcome.error).encode(), headers)
        return Reply(200, json.dumps(outcome.result).encode(), headers)

    # A client's Invoke of a durable function: an execution, not a single run.
    if qualifier is None:
        raise errors.invalid_parameter(
            f"Durable function {name} must be invoked with a qualified name or ARN "
            f"(a version, an alias or $LATEST), e.g. {name}:$LATEST, {name}:live or {name}:1."
        )
    if invocation_type == "DryRun":
        return Reply(204)
    arn = host.start_execution(name, qualifier, text, call.headers.get("x-amz-durable-execution-name"))
    headers = {**executed, "X-Amz-Durable-Execution-Arn": arn}
    if invocation_type == "Event":
        return Reply(202, b"", headers)
    detail = host.wait_execution(arn)
    if detail is None:
        headers["X-Amz-Function-Error"] = "Unhandled"
        message = {"errorType": "Sandbox.Timedout", "errorMessage": f"Synchronous invocation of {arn} did not end within 15 minutes; the execution goes on."}
        return Reply(200, json.dumps(message).encode(), headers)
    if detail["Status"] == "SUCCEEDED":
        return Reply(200, (detail.get("Result") or "null").encode(), headers)
    error = detail.get("Error") or {}
    headers["X-Amz-Function-Error"] = "Unhandled"
    payload = {"errorType": error.get("ErrorType", detail["Status"]), "errorMessage": error.get("ErrorMessage", f"execution {detail['Status']}")}
    return Reply(200, json.dumps(payload).encode(), headers)


@dataclass(frozen=True)
class RouteSpec:
    path: str  # Starlette's path syntax: {name} is one segment, {rest:path} any number
    methods: tuple[str, ...]
    operation: Operation


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/2015-03-31/functions/{name}/invocations", ("POST",), invoke),
    RouteSpec("/2025-12-01/{rest:path}", ("GET", "POST", "PUT", "DELETE"), durable_api),
    RouteSpec("/_workshop/health", ("GET",), health),
    RouteSpec("/_workshop/invocations", ("GET",), invocations),
    RouteSpec("/_workshop/workers", ("GET",), workers),
)


def unknown_operation(method: str, path: str) -> AwsError:
    return AwsError(404, "UnknownOperationException", f"The function host does not serve {method} {path}")
