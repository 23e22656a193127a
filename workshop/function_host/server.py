"""The function host's HTTP endpoint: Lambda's Invoke API and the durable APIs.

Routes:
  POST /2015-03-31/functions/{name}/invocations   Invoke
       - marked by the runner (X-Dex-Handler-Invoke: true): run the handler once
       - a client's Invoke of a durable function: start an execution in the runner
       - a plain function: run it once (Event: in the background)
  *    /2025-12-01/...                             durable APIs, proxied to the runner
  GET  /_workshop/health                           readiness (not an AWS route)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from workshop.config import ACCOUNT_ID, REGION, StackConfig, aws_env, boto3_client
from workshop.function_host import errors
from workshop.function_host.errors import AwsError
from workshop.function_host.esm import InFlightBatches, SqsPoller
from workshop.function_host.logsink import LogSink, framed_lines
from workshop.function_host.tracing import emit_function_segment, trace_header
from workshop.function_host.workers import InvocationOutcome, TooManyRequests, WorkerPool

log = logging.getLogger("function_host")

SYNC_INVOKE_LIMIT_S = 15 * 60  # a synchronous invoke, durable or not, is capped at 15 minutes
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 256 * 1024
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
_CALLBACK_PATH = re.compile(r"^/2025-12-01/durable-execution-callbacks/(?P<id>[^/]+)/(succeed|fail|heartbeat)$")
_PASSED_THROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


def function_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def split_function_name(raw: str, qualifier: str | None) -> tuple[str, str | None]:
    """Accept `name`, `name:qualifier`, or a function ARN, as Lambda does."""
    raw = urllib.parse.unquote(raw)
    if raw.startswith("arn:"):
        parts = raw.split(":")
        if len(parts) < 7 or parts[5] != "function":
            raise errors.invalid_parameter(f"{raw} is not a function ARN")
        name, embedded = parts[6], (parts[7] if len(parts) > 7 else None)
    else:
        name, _, embedded = raw.partition(":")
        embedded = embedded or None
    if embedded and qualifier and embedded != qualifier:
        raise errors.invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.")
    return name, embedded or qualifier


class Registry:
    """The functions and mappings the provisioner wrote; re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._mtime = -1.0
        self._data: dict[str, Any] = {"functions": {}, "event_source_mappings": []}
        self._lock = threading.Lock()

    def current(self) -> dict[str, Any]:
        with self._lock:
            try:
                mtime = self._path.stat().st_mtime
            except FileNotFoundError:
                return self._data
            if mtime != self._mtime:
                self._data = json.loads(self._path.read_text(encoding="utf-8"))
                self._mtime = mtime
            return self._data

    def function(self, name: str, qualifier: str | None) -> dict[str, Any]:
        function = self.current()["functions"].get(name)
        if function is None:
            raise errors.not_found(function_arn(name, qualifier))
        if qualifier not in (None, "$LATEST", *function.get("aliases", [])):
            raise errors.not_found(function_arn(name, qualifier))
        return function


class InvocationIndex:
    """Which invocation (request id) served which durable execution, and when.

    The runner's history marks each invocation's end but not its request id,
    and Lambda's START line does not name the execution; this index joins
    them so `workshop timeline` can show each invocation's own log lines.
    Kept as JSON lines under the state folder: it survives `make down`.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock, open(self._path, "a", encoding="utf-8") as index:
            index.write(json.dumps(entry) + "\n")

    def query(self, execution_arn: str | None = None, function: str | None = None) -> list[dict[str, Any]]:
        try:
            with self._lock:
                lines = self._path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = [json.loads(line) for line in lines if line.strip()]
        return [
            e
            for e in entries
            if (execution_arn is None or e.get("execution_arn") == execution_arn)
            and (function is None or e.get("function") == function)
        ]


class FunctionHost:
    """Everything behind the endpoint; the HTTP handler only parses and replies."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.registry = Registry(config.registry_path)
        self.pool = WorkerPool()
        self.logs = LogSink(boto3_client("logs", config), config.state_dir / "logs" / "functions")
        self.invocations = InvocationIndex(config.state_dir / "invocations.jsonl")
        self._name_locks: dict[tuple[str, str], threading.Lock] = {}
        self._name_locks_guard = threading.Lock()
        self.stop_event = threading.Event()
        self._pollers: dict[str, SqsPoller] = {}
        self.in_flight = InFlightBatches(config.state_dir / "esm-in-flight")

    # ---- running handlers -------------------------------------------------
    def worker_env(self, name: str, function: dict[str, Any]) -> dict[str, str]:
        env = {key: os.environ[key] for key in _PASSED_THROUGH_ENV if key in os.environ}
        env.update(aws_env(self.config))
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                # a lab's handler imports the services' shared code: python_path adds it
                "PYTHONPATH": os.pathsep.join([function["code_dir"], *function.get("python_path", [])]),
                "LAMBDA_TASK_ROOT": function["code_dir"],
                "_HANDLER": function["handler"],
                "AWS_EXECUTION_ENV": "AWS_Lambda_" + function.get("runtime", "python3.13"),
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.get("memory", 128)),
                "AWS_LAMBDA_LOG_GROUP_NAME": function.get("log_group", f"/aws/lambda/{name}"),
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_XRAY_DAEMON_ADDRESS": f"{self.config.xray_host}:{self.config.xray_port}",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            }
        )
        env.update({k: str(v) for k, v in function.get("environment", {}).items()})
        return env

    def run_handler(self, name: str, qualifier: str | None, event: Any, tenant_id: str | None = None) -> InvocationOutcome:
        """Run the handler once in a worker, keep its output, return what it returned."""
        function = self.registry.function(name, qualifier)
        request_id = str(uuid.uuid4())
        header, root, parent = trace_header()
        trace = (root, parent)  # of the function segment _finish emits, as the Lambda service does
        timeout_s = float(function.get("timeout", 3))
        try:
            worker, cold = self.pool.acquire(name, function, self.worker_env(name, function))
        except TooManyRequests as exc:
            raise AwsError(429, "TooManyRequestsException", f"Rate Exceeded. All {exc} workers are busy.") from exc
        init_ms: float | None = None
        init_lines: list[str] = []
        if cold:
            init_ms, init_lines, init_error = worker.wait_ready()
            if init_error is not None:
                self.pool.release(name, worker)
                outcome = InvocationOutcome(request_id=request_id, error=init_error, logs=init_lines, log_stream=worker.log_stream)
                now = time.time()
                return self._finish(name, function, event, outcome, init_ms, (now, now), trace)
        request = {
            "event": event,
            "context": {
                "aws_request_id": request_id,
                "invoked_function_arn": function_arn(name, qualifier),
                "function_name": name,
                "function_version": "$LATEST",
                "memory_limit_in_mb": function.get("memory", 128),
                "log_group_name": function.get("log_group", f"/aws/lambda/{name}"),
                "log_stream_name": worker.log_stream,
                "deadline_ms": int(time.time() * 1000 + timeout_s * 1000),
                "tenant_id": tenant_id,
            },
            "env": {"_X_AMZN_TRACE_ID": header, "AWS_LAMBDA_LOG_STREAM_NAME": worker.log_stream},
        }
        invoked_at = time.time()
        try:
            outcome = worker.invoke(request, timeout_s)
        finally:
            self.pool.release(name, worker)
        returned_at = time.time()
        outcome.logs[:0] = init_lines
        return self._finish(name, function, event, outcome, init_ms, (invoked_at, returned_at), trace)

    def _finish(
        self, name: str, function: dict[str, Any], event: Any, outcome: InvocationOutcome, init_ms: float | None, window: tuple[float, float],
        trace: tuple[str, str] | None = None,
    ) -> InvocationOutcome:
        """Ship the invocation's output to CloudWatch Logs, record it in the invocation index, emit its X-Ray segment."""
        execution_arn = event.get("DurableExecutionArn") if isinstance(event, dict) else None
        if trace is not None:  # the parent of the handler's subsegments (the Parent in _X_AMZN_TRACE_ID)
            emit_function_segment(
                (self.config.xray_host, self.config.xray_port), function=name, function_arn=function_arn(name), request_id=outcome.request_id,
                root=trace[0], parent=trace[1], start=window[0], end=window[1], execution_arn=execution_arn,
                result=outcome.result, error=outcome.error,
            )  # fmt: skip
        if outcome.error:
            outcome.logs.append(json.dumps(outcome.error))
        log_group = function.get("log_group", f"/aws/lambda/{name}")
        self.logs.write(name, log_group, outcome.log_stream, framed_lines(outcome, "$LATEST", int(function.get("memory", 128)), init_ms))
        self.invocations.record(
            {
                "request_id": outcome.request_id,
                "function": name,
                "execution_arn": execution_arn,
                "start": window[0],  # the handler's own run: before log shipping, so the timeline's windows are exact
                "end": window[1],
                "init_ms": init_ms,
                "error_type": (outcome.error or {}).get("errorType"),
                "log_group": log_group,
                "log_stream": outcome.log_stream,
            }
        )
        return outcome

    # ---- durable executions ----------------------------------------------
    def runner_call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.config.runner_url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            payload = _json_or_text(exc.read())
            message = payload.get("message") or payload.get("Message") or str(payload) if isinstance(payload, dict) else str(payload)
            error_type = payload.get("Type", "ServiceException") if isinstance(payload, dict) else "ServiceException"
            raise AwsError(exc.code, error_type, message) from exc
        except urllib.error.URLError as exc:
            raise AwsError(503, "ServiceException", f"The durable runner at {self.config.runner_url} is not reachable: {exc.reason}. Is the stack up? (make status)") from exc
        return json.loads(raw) if raw else {}

    def start_execution(self, name: str, qualifier: str, payload: str, execution_name: str | None) -> str:
        """Start a durable execution; a named start is idempotent, as on AWS."""
        function = self.registry.function(name, qualifier)
        durable = function["durable"]
        if execution_name is None:
            return self._start(name, qualifier, payload, str(uuid.uuid4()), durable)
        if not re.fullmatch(r"[a-zA-Z0-9\-_]{1,64}", execution_name):
            raise errors.invalid_parameter(f"DurableExecutionName {execution_name!r} must be 1-64 letters, digits, '-' or '_'.")
        with self._name_lock(name, execution_name):
            existing = self.runner_call(
                "GET",
                f"/2025-12-01/functions/{urllib.parse.quote(name, safe='')}/durable-executions?"
                + urllib.parse.urlencode({"DurableExecutionName": execution_name}),
            ).get("DurableExecutions", [])
            for summary in existing:
                if summary.get("DurableExecutionName") != execution_name:
                    continue
                arn = summary["DurableExecutionArn"]
                detail = self.get_execution(arn)
                if _same_json(detail.get("InputPayload"), payload):
                    return arn
                raise AwsError(
                    409,
                    "DurableExecutionAlreadyStartedException",
                    f"Durable execution with name {execution_name} already exists for function {name} with a different input.",
                )
            return self._start(name, qualifier, payload, execution_name, durable)

    def _start(self, name: str, qualifier: str, payload: str, execution_name: str, durable: dict[str, Any]) -> str:
        output = self.runner_call(
            "POST",
            "/start-durable-execution",
            {
                "AccountId": ACCOUNT_ID,
                "FunctionName": name,
                "FunctionQualifier": qualifier,
                "ExecutionName": execution_name,
                "ExecutionTimeoutSeconds": int(durable.get("ExecutionTimeout", 900)),
                "ExecutionRetentionPeriodDays": int(durable.get("RetentionPeriodInDays", 7)),
                "Input": payload,
            },
        )
        return output["ExecutionArn"]

    def get_execution(self, arn: str) -> dict[str, Any]:
        return self.runner_call("GET", f"/2025-12-01/durable-executions/{urllib.parse.quote(arn, safe='')}?IncludeExecutionData=true")

    def wait_execution(self, arn: str, limit_s: float = SYNC_INVOKE_LIMIT_S) -> dict[str, Any] | None:
        """Poll until the execution ends or the limit passes (None)."""
        deadline = time.monotonic() + limit_s
        delay = 0.05
        while time.monotonic() < deadline and not self.stop_event.is_set():
            detail = self.get_execution(arn)
            if detail.get("Status") in TERMINAL:
                return detail
            self.stop_event.wait(delay)
            delay = min(delay * 1.5, 0.1)
        return None

    def _name_lock(self, name: str, execution_name: str) -> threading.Lock:
        with self._name_locks_guard:
            return self._name_locks.setdefault((name, execution_name), threading.Lock())

    # ---- event source mappings -------------------------------------------
    def invoke_for_mapping(self, name: str, event: dict[str, Any]) -> tuple[bool, Any]:
        """One synchronous invoke per batch, as Lambda's pollers do."""
        function = self.registry.function(name, None)
        if function.get("durable"):
            qualifier = "live" if "live" in function.get("aliases", []) else "$LATEST"
            arn = self.start_execution(name, qualifier, json.dumps(event), None)
            detail = self.wait_execution(arn)
            if detail is None and self.stop_event.is_set():
                return True, {"errorMessage": f"the function host stopped while execution {arn} was running; the batch is given back"}
            if detail is None:
                return True, {"errorMessage": f"execution {arn} did not end within 15 minutes"}
            if detail["Status"] != "SUCCEEDED":
                return True, detail.get("Error", {"errorMessage": detail["Status"]})
            return False, _json_or_text((detail.get("Result") or "null").encode())
        outcome = self.run_handler(name, None, event)
        return outcome.failed, outcome.error if outcome.failed else outcome.result

    def start_pollers(self) -> None:
        """Start a poller for every enabled mapping that has none yet.

        Called at start and again whenever the registry changes, so `make up`
        re-provisioning a template with a new mapping needs no host restart.
        (A mapping removed or disabled stops only with the host.)
        """
        for mapping in self.registry.current().get("event_source_mappings", []):
            key = mapping.get("uuid") or f"{mapping['function']}:{mapping['queue_arn']}"
            if mapping.get("enabled", True) and key not in self._pollers:
                poller = SqsPoller(
                    mapping, boto3_client("sqs", self.config), self.invoke_for_mapping, self.stop_event,
                    self.in_flight, self.config.esm_retry_s,
                )  # fmt: skip
                poller.start()
                self._pollers[key] = poller
                log.info("polling %s for %s (batch size %s)", mapping["queue_url"], mapping["function"], mapping.get("batch_size", 10))

    def return_unsettled_batches(self) -> None:
        """Messages a previous host received and never settled (it stopped mid-batch) come back now."""
        try:
            returned = self.in_flight.give_back_all(boto3_client("sqs", self.config), self.config.esm_retry_s)
        except Exception as exc:  # noqa: BLE001 - the emulator may still be starting: they come back with the visibility timeout
            log.warning("could not return the batches a previous host left in flight: %s", exc)
            return
        if returned:
            log.info("returned %d messages that a previous host had received and not settled", returned)

    def housekeeping_loop(self) -> None:
        """Pick up new mappings quickly; stop idle workers now and then."""
        ticks = 0
        while not self.stop_event.wait(1.0):
            ticks += 1
            try:
                self.start_pollers()
            except Exception as exc:  # noqa: BLE001 - a bad registry must not stop the host
                log.warning("could not start pollers: %s", exc)
            if ticks % 15 == 0:
                self.pool.reap_idle()


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _same_json(a: str | None, b: str) -> bool:
    try:
        return json.loads(a or "null") == json.loads(b or "null")
    except ValueError:
        return a == b


class Handler(BaseHTTPRequestHandler):
    host: FunctionHost  # set on the subclass made by serve()
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # route access lines to our logger
        log.debug("%s " + fmt, self.address_string(), *args)

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, exc: AwsError) -> None:
        self._reply(exc.status, exc.body(), {"x-amzn-ErrorType": exc.error_type})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        body = self._body()
        parsed = urllib.parse.urlsplit(self.path)
        try:
            if parsed.path == "/_workshop/health":
                self._reply(200, b'{"status": "ok"}')
            elif parsed.path == "/_workshop/invocations" and method == "GET":
                query = urllib.parse.parse_qs(parsed.query)
                entries = self.host.invocations.query(
                    (query.get("execution") or [None])[0], (query.get("function") or [None])[0]
                )
                self._reply(200, json.dumps({"Invocations": entries}).encode())
            elif parsed.path.startswith("/2025-12-01/"):
                self._proxy(method, body)
            elif method == "POST" and (match := _INVOKE_PATH.match(parsed.path)):
                query = urllib.parse.parse_qs(parsed.query)
                self._invoke(match["name"], (query.get("Qualifier") or [None])[0], body)
            else:
                raise AwsError(404, "UnknownOperationException", f"The function host does not serve {method} {parsed.path}")
        except AwsError as exc:
            self._error(exc)
        except Exception as exc:  # noqa: BLE001 - a bug here must answer, not hang the client
            log.exception("unexpected error serving %s %s", method, self.path)
            self._error(AwsError(500, "ServiceException", f"function host error: {exc}"))

    def _proxy(self, method: str, body: bytes) -> None:
        """The durable management APIs and the SDK's checkpoints go to the runner unchanged."""
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization", "x-amz-date", "x-amz-content-sha256")}
        request = urllib.request.Request(self.host.config.runner_url + self.path, data=body or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload, rheaders = response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            status, payload, rheaders = exc.code, exc.read(), exc.headers
        except urllib.error.URLError as exc:
            raise AwsError(503, "ServiceException", f"The durable runner at {self.host.config.runner_url} is not reachable: {exc.reason}. Is the stack up? (make status)") from exc
        extra = {}
        if status >= 400:
            parsed = _json_or_text(payload)
            if isinstance(parsed, dict) and parsed.get("Type"):
                extra["x-amzn-ErrorType"] = parsed["Type"]
            callback = _CALLBACK_PATH.match(urllib.parse.urlsplit(self.path).path)
            if callback and status == 404:
                # The runner's text here is an internal decode error; say what it means.
                message = f"Callback {urllib.parse.unquote(callback['id'])} was not found: no execution is waiting on a callback with this id."
                payload = json.dumps({"Type": "ResourceNotFoundException", "message": message, "Message": message}).encode()
                extra["x-amzn-ErrorType"] = "ResourceNotFoundException"
        self._reply(status, payload, {"Content-Type": rheaders.get("Content-Type", "application/json"), **extra})

    def _invoke(self, raw_name: str, qualifier: str | None, body: bytes) -> None:
        host = self.host
        name, qualifier = split_function_name(raw_name, qualifier)
        function = host.registry.function(name, qualifier)
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise errors.invalid_parameter(f"Invalid InvocationType {invocation_type!r}: use RequestResponse, Event or DryRun.")
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            raise errors.too_large(f"{len(body)} byte payload is too large for the {invocation_type} invocation type (limit {limit} bytes)")
        text = body.decode("utf-8", errors="replace") if body else "{}"
        try:
            event = json.loads(text)
        except ValueError as exc:
            raise errors.invalid_content(f"Could not parse request body into json: {exc}") from exc
        executed = {"X-Amz-Executed-Version": "$LATEST"}

        if self.headers.get("X-Dex-Handler-Invoke", "").lower() == "true" or not function.get("durable"):
            if invocation_type == "DryRun":
                return self._reply(204)
            if invocation_type == "Event":
                threading.Thread(target=host.run_handler, args=(name, qualifier, event), daemon=True).start()
                return self._reply(202, b"", executed)
            outcome = host.run_handler(name, qualifier, event, self.headers.get("X-Amz-Tenant-Id"))
            headers = {**executed, "x-amzn-RequestId": outcome.request_id}
            if outcome.failed:
                headers["X-Amz-Function-Error"] = "Unhandled"
                return self._reply(200, json.dumps(outcome.error).encode(), headers)
            return self._reply(200, json.dumps(outcome.result).encode(), headers)

        # A client's Invoke of a durable function: an execution, not a single run.
        if qualifier is None:
            raise errors.invalid_parameter(
                f"Durable function {name} must be invoked with a qualified name or ARN "
                f"(a version, an alias or $LATEST), e.g. {name}:$LATEST or {name}:live."
            )
        if invocation_type == "DryRun":
            return self._reply(204)
        arn = host.start_execution(name, qualifier, text, self.headers.get("X-Amz-Durable-Execution-Name"))
        headers = {**executed, "X-Amz-Durable-Execution-Arn": arn}
        if invocation_type == "Event":
            return self._reply(202, b"", headers)
        detail = host.wait_execution(arn)
        if detail is None:
            headers["X-Amz-Function-Error"] = "Unhandled"
            message = {"errorType": "Sandbox.Timedout", "errorMessage": f"Synchronous invocation of {arn} did not end within 15 minutes; the execution goes on."}
            return self._reply(200, json.dumps(message).encode(), headers)
        if detail["Status"] == "SUCCEEDED":
            return self._reply(200, (detail.get("Result") or "null").encode(), headers)
        error = detail.get("Error") or {}
        headers["X-Amz-Function-Error"] = "Unhandled"
        payload = {"errorType": error.get("ErrorType", detail["Status"]), "errorMessage": error.get("ErrorMessage", f"execution {detail['Status']}")}
        return self._reply(200, json.dumps(payload).encode(), headers)


def serve(config: StackConfig) -> None:
    host = FunctionHost(config)
    handler = type("BoundHandler", (Handler,), {"host": host})
    try:
        server = ThreadingHTTPServer((config.bind_host, config.host_port), handler)
    except OSError as exc:
        raise SystemExit(f"function host: cannot listen on {config.bind_host}:{config.host_port}: {exc.strerror}") from exc
    server.daemon_threads = True

    def stop(signum: int, _frame: Any) -> None:
        log.info("stopping (signal %d)", signum)
        host.stop_event.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host.return_unsettled_batches()
    host.start_pollers()
    threading.Thread(target=host.housekeeping_loop, daemon=True).start()
    log.info("function host listening on %s (runner %s, emulator %s)", config.host_url, config.runner_url, config.emulator_url)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        host.pool.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="The workshop's local Lambda endpoint.")
    parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    serve(StackConfig())


if __name__ == "__main__":
    main()
