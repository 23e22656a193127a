"""A client of the local stack: executions, their history, the invocation index, log streams.

What the `workshop` CLI, the lab runner, the tools and the lab checks read
from a running stack, in one place and without any console: failures are an
InspectError carrying a message for the learner (and the CLI's exit code).
All AWS calls go through `workshop.config.boto3_client`, so it works against
any stack the WORKSHOP_* variables point at; tests pass fakes as `clients`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from workshop import registry as function_registry
from workshop.config import StackConfig, boto3_client
from workshop.inspect.loglines import split_by_request

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"})


class InspectError(Exception):
    """A failure with a message for the learner (no traceback) and an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Services:
    """The clients and endpoints one command uses, created on first use (tests pass fakes)."""

    config: StackConfig = field(default_factory=StackConfig)
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3_client(service, self.config)
        return self.clients[service]

    def invocations(self, execution_arn: str | None = None, function: str | None = None) -> list[dict[str, Any]]:
        """The function host's invocation index (not an AWS API: GET /_workshop/invocations)."""
        query = {k: v for k, v in (("execution", execution_arn), ("function", function)) if v}
        url = f"{self.config.host_url}/_workshop/invocations?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.loads(response.read() or b"{}").get("Invocations", [])
        except urllib.error.HTTPError as exc:
            raise InspectError(f"The function host answered {exc.code} for its invocation index ({url}).") from exc
        except urllib.error.URLError as exc:
            raise InspectError(not_running_message(self.config, self.config.host_url)) from exc

    def registry(self) -> dict[str, Any]:
        """The functions the provisioner registered ({"functions": {name: {...}}})."""
        try:
            return function_registry.load(self.config)
        except function_registry.RegistryMissing as exc:
            raise InspectError(str(exc)) from exc

    def durable_functions(self) -> list[str]:
        functions = self.registry().get("functions", {})
        return sorted(name for name, spec in functions.items() if (spec or {}).get("durable"))

    def log_group(self, function: str) -> str:
        try:
            spec = self.registry().get("functions", {}).get(function) or {}
        except InspectError:
            spec = {}
        return spec.get("log_group") or f"/aws/lambda/{function}"


def not_running_message(config: StackConfig, url: str) -> str:
    if url.startswith(config.emulator_url):
        return f"The AWS emulator of the local stack is not running at {config.emulator_url} — start it with `make up`"
    return f"The local stack is not running at {config.host_url} — start it with `make up`"


def split_qualifier(function: str) -> tuple[str, str | None]:
    """'order-saga:live' -> ('order-saga', 'live'); the list API wants them apart."""
    if function.startswith("arn:"):
        parts = function.split(":")
        return parts[6], (parts[7] if len(parts) > 7 else None)
    name, _, qualifier = function.partition(":")
    return name, qualifier or None


def fetch_history(services: Services, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    paginator = services.client("lambda").get_paginator("get_durable_execution_history")
    for page in paginator.paginate(DurableExecutionArn=arn, IncludeExecutionData=True):
        events.extend(page.get("Events", []))
    return events


def read_stream(services: Services, group: str, stream: str, start_ms: int | None = None) -> list[tuple[int, str]]:
    """All (timestamp, message) of one log stream, oldest first."""
    logs = services.client("logs")
    request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    if start_ms is not None:
        request["startTime"] = start_ms
    lines: list[tuple[int, str]] = []
    token: str | None = None
    for _ in range(10_000):  # a bound, not a limit anyone should reach
        response = logs.get_log_events(**request, **({"nextToken": token} if token else {}))
        batch = response.get("events", [])
        lines.extend((e.get("timestamp", 0), e.get("message", "")) for e in batch)
        new_token = response.get("nextForwardToken")
        if not batch or not new_token or new_token == token:
            break
        token = new_token
    return lines


def invocation_logs(services: Services, entries: list[dict[str, Any]]) -> tuple[dict[str, list[str]], list[str]]:
    """Framed log lines per request id for these index entries, and what could not be read."""
    by_request: dict[str, list[str]] = {}
    problems: list[str] = []
    streams = sorted({(e["log_group"], e["log_stream"]) for e in entries if e.get("log_group") and e.get("log_stream")})
    earliest = min((e.get("start") or 0.0 for e in entries), default=0.0)
    start_ms = int((earliest - 60) * 1000) if earliest else None
    for group, stream in streams:
        try:
            lines = read_stream(services, group, stream, start_ms)
        except ClientError as exc:
            problems.append(f"could not read {group} {stream}: {error_text(exc)}")
            continue
        by_request.update(split_by_request(message for _, message in lines))
    return by_request, problems


def error_text(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code") or "Error"
    message = error.get("Message") or str(exc)
    return f"{code}: {message}"
