"""Where function output goes: CloudWatch Logs in the emulator, as on AWS.

Each invocation is framed by Lambda's own START / END / REPORT lines, so a
reader can cut a log stream into invocations by request id (the durable
execution history records the request id of every invocation, which is how
`workshop timeline` puts each invocation's log lines next to its operations).
A plain-text copy per function is kept under the state folder for `make logs`,
capped like the stack's other logs (workshop/capped_files.py: NAME.log.1 and
.2 at WORKSHOP_LOG_MAX_MB).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from workshop import capped_files
from workshop.host.pool import InvocationOutcome

log = logging.getLogger("function_host.logs")


def framed_lines(outcome: InvocationOutcome, version: str, memory_mb: int, init_ms: float | None) -> list[str]:
    """Lambda's framing of one invocation's output."""
    report = (
        f"REPORT RequestId: {outcome.request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
        f"Billed Duration: {int(outcome.duration_ms) + 1} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {outcome.max_memory_mb} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    if outcome.error and outcome.error.get("errorType") == "Sandbox.Timedout":
        report += "\tStatus: timeout"
    return [
        f"START RequestId: {outcome.request_id} Version: {version}",
        *outcome.logs,
        f"END RequestId: {outcome.request_id}",
        report,
    ]


class LogSink:
    """Writes invocation output to CloudWatch Logs (emulator) and a local file."""

    def __init__(self, logs_client: Any, local_dir: Path, max_bytes: int | None = None) -> None:
        self._client = logs_client
        self._local_dir = local_dir
        self._max_bytes = max_bytes
        self._local_dir.mkdir(parents=True, exist_ok=True)
        self._known_streams: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def write(self, function_name: str, log_group: str, stream: str, lines: list[str]) -> None:
        now_ms = int(time.time() * 1000)
        text = "".join(line + "\n" for line in lines)
        with self._lock:
            capped_files.CappedFile(self._local_dir / f"{function_name}.log", self._max_bytes).append(text.encode("utf-8"))
        try:
            self._ensure_stream(log_group, stream)
            # one timestamp per line, increasing, so the order survives any reader
            events = [{"timestamp": now_ms, "message": line or " "} for line in lines]
            for start in range(0, len(events), 1000):
                self._client.put_log_events(logGroupName=log_group, logStreamName=stream, logEvents=events[start : start + 1000])
        except Exception as exc:  # noqa: BLE001 - the invocation's result must not depend on log shipping
            log.warning("could not write %d log lines to %s: %s (kept in %s)", len(lines), log_group, exc, self._local_dir)

    def _ensure_stream(self, group: str, stream: str) -> None:
        if (group, stream) in self._known_streams:
            return
        for call, kwargs in (
            (self._client.create_log_group, {"logGroupName": group}),
            (self._client.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
        ):
            try:
                call(**kwargs)
            except self._client.exceptions.ResourceAlreadyExistsException:
                pass
        self._known_streams.add((group, stream))
