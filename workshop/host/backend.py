"""Everything behind the function host's endpoint: the functions, their workers, executions, pollers.

The HTTP layer (workshop.host.routes) only parses a request and
calls one method here; this module owns the state: the registry the
provisioner writes, the worker pool, the invocation index, the pollers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import urllib.parse
import uuid
from typing import Any

from workshop import registry
from workshop.config import ACCOUNT_ID, StackConfig, aws_env, boto3_client
from workshop.host import errors
from workshop.host.errors import AwsError
from workshop.host.esm import InFlightBatches, SqsPoller
from workshop.host.execution_ends import ExecutionEnds
from workshop.host.invocations import InvocationIndex
from workshop.host.log_keeper import LogKeeper
from workshop.host.logsink import LogSink, framed_lines
from workshop.host.names import LATEST, executed_version, function_arn, published_versions
from workshop.host.runner_client import RunnerClient, json_or_text
from workshop.host.tracing import emit_function_segment, trace_header
from workshop.host.pool import InvocationOutcome, TooManyRequests, WorkerPool
from workshop.host.shape_audit import ShapeAudit

log = logging.getLogger("function_host")

SYNC_INVOKE_LIMIT_S = 15 * 60  # a synchronous invoke, durable or not, is capped at 15 minutes
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 256 * 1024
ENDS_POLL_S = 0.25  # how often a waiting Invoke asks the runner when no handler run said the execution ended
LOG_KEEPER_STOP_S = 5.0  # a rotation copies one log of a few MB: milliseconds
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"}
_PASSED_THROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


class Registry(registry.Watched):
    """The functions and mappings the host serves (workshop.registry), looked up as Lambda does."""

    def function(self, name: str, qualifier: str | None) -> dict[str, Any]:
        function = self.current()["functions"].get(name)
        if function is None:
            raise errors.not_found(function_arn(name, qualifier))
        if qualifier not in (None, LATEST, *function.get("aliases", []), *published_versions(function)):
            raise errors.not_found(function_arn(name, qualifier))
        return function


class FunctionHost:
    """Everything behind the endpoint; the HTTP handler only parses and replies."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.registry = Registry(config)
        self.pool = WorkerPool()
        self.logs = LogSink(boto3_client("logs", config), config.state_dir / "logs" / "functions", config.log_max_bytes)
        self.invocations = InvocationIndex(config.state_dir / "invocations.jsonl")
        self._name_locks: dict[tuple[str, str], threading.Lock] = {}
        self._name_locks_guard = threading.Lock()
        self.stop_event = threading.Event()
        self._pollers: dict[str, SqsPoller] = {}
        self.in_flight = InFlightBatches(config.state_dir / "esm-in-flight")
        self.runner = RunnerClient(config.runner_url)
        self.ends = ExecutionEnds(self.stop_event)
        # the services' stdout/stderr logs, capped by copytruncate (workshop/host/log_keeper.py)
        self.log_keeper = LogKeeper(config.state_dir / "logs", config.log_max_bytes, self.stop_event)
        self.shape_audit = ShapeAudit.from_env()  # None unless WORKSHOP_SHAPE_AUDIT names a file (a live test's)

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
                "AWS_LAMBDA_FUNCTION_VERSION": LATEST,  # a worker serves every version; the invoke's is in its context
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.get("memory", 128)),
                "AWS_LAMBDA_LOG_GROUP_NAME": function.get("log_group", f"/aws/lambda/{name}"),
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_XRAY_DAEMON_ADDRESS": f"{self.config.xray_host}:{self.config.xray_port}",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            }
        )
        # LoggingConfig, as Lambda passes it to the runtime (workshop.host.sandbox applies the level)
        if function.get("log_format"):
            env["AWS_LAMBDA_LOG_FORMAT"] = function["log_format"]
        if function.get("application_log_level"):
            env["AWS_LAMBDA_LOG_LEVEL"] = function["application_log_level"]
        env.update({k: str(v) for k, v in function.get("environment", {}).items()})
        return env

    def run_handler(self, name: str, qualifier: str | None, event: Any, tenant_id: str | None = None) -> InvocationOutcome:
        """Run the handler once in a worker, keep its output, return what it returned."""
        function = self.registry.function(name, qualifier)
        request_id = str(uuid.uuid4())
        version = executed_version(function, qualifier)
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
                return self._finish(name, function, event, outcome, init_ms, (now, now), trace, version)
        request = {
            "event": event,
            "context": {
                "aws_request_id": request_id,
                "invoked_function_arn": function_arn(name, qualifier),
                "function_name": name,
                "function_version": version,
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
        if isinstance(event, dict) and isinstance(outcome.result, dict) and outcome.result.get("Status") in ("SUCCEEDED", "FAILED"):
            self.ends.ended(event.get("DurableExecutionArn", ""))  # the SDK's answer: this execution is over
        return self._finish(name, function, event, outcome, init_ms, (invoked_at, returned_at), trace, version)

    def _finish(
        self, name: str, function: dict[str, Any], event: Any, outcome: InvocationOutcome, init_ms: float | None, window: tuple[float, float],
        trace: tuple[str, str] | None = None, version: str = LATEST,
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
        self.logs.write(name, log_group, outcome.log_stream, framed_lines(outcome, version, int(function.get("memory", 128)), init_ms))
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
                **({"replay": outcome.replay} if outcome.replay is not None else {}),
            }
        )
        return outcome

    # ---- durable executions ----------------------------------------------
    def start_execution(self, name: str, qualifier: str, payload: str, execution_name: str | None) -> str:
        """Start a durable execution; a named start is idempotent, as on AWS.

        The runner is given the version the qualifier resolves to (an alias's
        is "1", workshop.host.names), not the alias: it puts that version in
        the execution's ARN, FunctionArn and Version, as AWS does, and
        invokes `name:1` for every replay.
        """
        function = self.registry.function(name, qualifier)
        durable = function["durable"]
        qualifier = executed_version(function, qualifier)
        if execution_name is None:
            return self._start(name, qualifier, payload, str(uuid.uuid4()), durable)
        if not re.fullmatch(r"[a-zA-Z0-9\-_]{1,64}", execution_name):
            raise errors.invalid_parameter(f"DurableExecutionName {execution_name!r} must be 1-64 letters, digits, '-' or '_'.")
        with self._name_lock(name, execution_name):
            existing = self.runner.call(
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
        output = self.runner.call(
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
        return self.runner.call("GET", f"/2025-12-01/durable-executions/{urllib.parse.quote(arn, safe='')}?IncludeExecutionData=true")

    def wait_execution(self, arn: str, limit_s: float = SYNC_INVOKE_LIMIT_S) -> dict[str, Any] | None:
        """Until the execution ends (its detail) or the limit passes (None).

        Woken by the handler run that returned the final status, then asks the
        runner until it has recorded it; the runner's own ends (a timeout, a
        stop) are found by asking every ENDS_POLL_S.
        """
        deadline = time.monotonic() + limit_s
        recording = 0.002  # from the handler's answer to the runner's record of it: a few ms
        try:
            while time.monotonic() < deadline and not self.stop_event.is_set():
                detail = self.get_execution(arn)
                if detail.get("Status") in TERMINAL:
                    return detail
                if self.ends.has_ended(arn):
                    self.stop_event.wait(recording)
                    recording = min(recording * 2, 0.1)
                else:
                    self.ends.wait(arn, min(ENDS_POLL_S, max(0.0, deadline - time.monotonic())))
            return None
        finally:
            self.ends.forget(arn)

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
            return False, json_or_text((detail.get("Result") or "null").encode())
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

    def start(self) -> None:
        """Before the first request: batches a previous host left in flight, the pollers, housekeeping, the log keeper."""
        self.return_unsettled_batches()
        self.start_pollers()
        threading.Thread(target=self.housekeeping_loop, name="housekeeping", daemon=True).start()
        self.log_keeper.start()

    def stop(self) -> None:
        """Waits end, pollers stop at their next turn, every worker process is stopped by its pid,
        and a log rotation under way ends before the host does (a daemon thread cut at exit could
        leave a log copied and not truncated)."""
        self.stop_event.set()
        self.ends.wake_all()
        self.pool.shutdown()
        if not self.log_keeper.join(LOG_KEEPER_STOP_S):
            log.warning("the log keeper did not end within %.0f s", LOG_KEEPER_STOP_S)

    def housekeeping_loop(self) -> None:
        """Every second: pick up new mappings, stop workers idle for too long."""
        while not self.stop_event.wait(1.0):
            try:
                self.start_pollers()
            except Exception as exc:  # noqa: BLE001 - a bad registry must not stop the host
                log.warning("could not start pollers: %s", exc)
            self.pool.reap_idle()


def _same_json(a: str | None, b: str) -> bool:
    try:
        return json.loads(a or "null") == json.loads(b or "null")
    except ValueError:
        return a == b
