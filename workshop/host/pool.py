"""Worker processes: one Lambda execution environment each, pooled per function.

Why processes and not threads: each function gets Lambda's environment
variables, its own module state, and a crash or a timeout kills only its own
worker, which is then replaced (as Lambda replaces a broken sandbox).
Why a fingerprint: code edited on disk is picked up by the next invocation
without restarting anything; a worker started before the edit is retired.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshop import system

MAX_WORKERS_PER_FUNCTION = 8
INIT_LIMIT_S = 10.0  # Lambda's init phase limit
# Lambda keeps an idle environment for minutes; here each one is a Python process of
# 60-90 MB on a learner's laptop, so idle workers go sooner: the extra ones a burst
# started after a few seconds, a function's last warm one after half a minute.
IDLE_WORKER_SECONDS = 30.0
IDLE_EXTRA_WORKER_SECONDS = 5.0


@dataclass
class InvocationOutcome:
    """What one invocation produced, in Lambda's terms."""

    request_id: str
    result: Any = None
    error: dict[str, Any] | None = None
    logs: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    log_stream: str = ""
    replay: dict[str, Any] | None = None  # the SDK replay recorder's record (workshop.host.replay_plugin), durable handlers only

    @property
    def failed(self) -> bool:
        return self.error is not None


def code_fingerprint(code_dir: Path, extra_dirs: tuple[Path, ...] = ()) -> str:
    """A digest of every Python file the function can import: changes when any of them does.

    Path, size and mtime are cheap to read. The file system's clock is coarse
    (two saves within a few ms can share an mtime), so files changed in the
    last two seconds are also read and hashed.
    """
    digest = hashlib.sha1()
    recent = time.time() - 2.0
    for root in (code_dir, *extra_dirs):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for name in sorted(filenames):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    info = os.stat(path)
                    digest.update(f"{path}\0{info.st_mtime_ns}\0{info.st_size}\0".encode())
                    if info.st_mtime >= recent:
                        with open(path, "rb") as source:
                            digest.update(source.read())
                except FileNotFoundError:
                    pass
    return digest.hexdigest()


class _LineReader:
    """Lines from a pipe with a deadline.

    select() on a buffered file object lies: a readline() may pull several
    lines into Python's buffer and select() then waits for bytes that already
    arrived. So lines are split here, from os.read() on the raw descriptor.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    def readline(self, deadline: float) -> bytes | None:
        """One line; b"" at end of file; None when the deadline passes first."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._fd, 65536)
            if not chunk:
                rest, self._buffer = self._buffer, b""
                return rest
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"


class Worker:
    """One worker process and the pipes to it."""

    def __init__(self, function: dict[str, Any], env: dict[str, str], fingerprint: str) -> None:
        self.id = uuid.uuid4().hex
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "?")
        self.fingerprint = fingerprint
        self.log_stream = time.strftime("%Y/%m/%d/", time.gmtime()) + f"[$LATEST]{self.id}"
        self.last_used = time.monotonic()
        # Lambda's "Max Memory Used": the highest resident memory seen at the end of an invocation
        # (psutil reads the current RSS on every system; the kernel's own peak is Linux's only).
        self.peak_rss_mb = 0
        worker_env = dict(env)
        worker_env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "workshop.host.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # goes to the host's own log: import-time noise, C-level writes
            cwd=function["code_dir"],
            env=worker_env,
        )
        self._lines = _LineReader(self.process.stdout.fileno())

    def wait_ready(self, limit_s: float = INIT_LIMIT_S) -> tuple[float, list[str], dict[str, Any] | None]:
        """Wait for the end of the init phase: (init ms, lines printed, error or None)."""
        started = time.monotonic()
        lines: list[str] = []
        deadline = started + limit_s
        while True:
            line = self._lines.readline(deadline)
            if line is None:
                self.kill()
                return (time.monotonic() - started) * 1000, lines, {
                    "errorType": "Runtime.InitTimeout",
                    "errorMessage": f"Init phase did not finish within {limit_s:.0f} seconds",
                }
            if not line:
                code = self.process.wait()
                return (time.monotonic() - started) * 1000, lines, _exit_error("init", code)
            message = json.loads(line)
            if "log" in message:
                lines.append(message["log"])
            elif message.get("ready"):
                return (time.monotonic() - started) * 1000, lines, None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Stop this worker by the pid we started it with."""
        if self.alive:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def invoke(self, request: dict[str, Any], timeout_s: float) -> InvocationOutcome:
        """Send one invocation and read until its end, the deadline, or the worker's death."""
        outcome = InvocationOutcome(request_id=request["context"]["aws_request_id"], log_stream=self.log_stream)
        started = time.monotonic()
        deadline = started + timeout_s
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            outcome.error = _exit_error(outcome.request_id, self.process.poll())
            return outcome
        while True:
            line = self._lines.readline(deadline)
            if line is None:
                self.kill()
                outcome.error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {outcome.request_id} Error: Task timed out after {timeout_s:.2f} seconds",
                }
                break
            if not line:  # the worker died mid-invocation
                code = self.process.wait()
                outcome.error = _exit_error(outcome.request_id, code)
                break
            message = json.loads(line)
            if "log" in message:
                outcome.logs.append(message["log"])
            elif "replay" in message:  # sent before the result, from the SDK's invocation-end hook
                record = message["replay"]
                if isinstance(record, dict) and record.get("request_id") in (None, outcome.request_id):
                    outcome.replay = record
            elif "error" in message:
                outcome.error = message["error"]
                break
            else:
                outcome.result = message.get("result")
                break
        outcome.duration_ms = (time.monotonic() - started) * 1000
        self.peak_rss_mb = max(self.peak_rss_mb, system.rss_mb(self.process.pid) or 0)
        outcome.max_memory_mb = self.peak_rss_mb
        self.last_used = time.monotonic()
        return outcome


def _exit_error(request_id: str, code: int | None) -> dict[str, Any]:
    status = "signal " + str(-code) if code is not None and code < 0 else f"exit status {code}"
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {status}",
    }


class TooManyRequests(Exception):
    """All of a function's workers are busy (Lambda: TooManyRequestsException)."""


class WorkerPool:
    """Idle workers per function; a busy function gets more, up to a cap."""

    def __init__(self, extra_code_dirs: tuple[Path, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[Worker]] = {}
        self._busy: dict[str, int] = {}
        self._all: set[Worker] = set()
        self._extra_code_dirs = extra_code_dirs

    def acquire(self, name: str, function: dict[str, Any], env: dict[str, str]) -> tuple[Worker, bool]:
        """A ready worker for `name`, and whether it was just started (a cold start)."""
        extra = tuple(Path(p) for p in function.get("python_path", [])) + self._extra_code_dirs
        fingerprint = code_fingerprint(Path(function["code_dir"]), extra)
        retired: list[Worker] = []
        with self._lock:
            idle = self._idle.setdefault(name, [])
            worker = None
            while idle:
                candidate = idle.pop()
                if candidate.alive and candidate.fingerprint == fingerprint:
                    worker = candidate
                    break
                retired.append(candidate)
            if worker is None and self._busy.get(name, 0) >= MAX_WORKERS_PER_FUNCTION:
                raise TooManyRequests(name)
            self._busy[name] = self._busy.get(name, 0) + 1
        for old in retired:
            self._forget(old)
        if worker is not None:
            return worker, False
        try:
            worker = Worker(function, env, fingerprint)
        except BaseException:
            with self._lock:
                self._busy[name] -= 1
            raise
        with self._lock:
            self._all.add(worker)
        return worker, True

    def release(self, name: str, worker: Worker) -> None:
        with self._lock:
            self._busy[name] -= 1
            if worker.alive:
                self._idle.setdefault(name, []).append(worker)
                return
        self._forget(worker)

    def _forget(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def reap_idle(self, older_than_s: float = IDLE_WORKER_SECONDS, extra_older_than_s: float = IDLE_EXTRA_WORKER_SECONDS) -> int:
        """Stop idle workers: a function's extra ones soon, its last one later. Returns how many stopped."""
        now = time.monotonic()
        stale: list[Worker] = []
        with self._lock:
            for idle in self._idle.values():
                newest_first = sorted(idle, key=lambda w: w.last_used, reverse=True)
                keep = [
                    w for rank, w in enumerate(newest_first)
                    if now - w.last_used < (older_than_s if rank == 0 else extra_older_than_s)
                ]  # fmt: skip
                stale.extend(w for w in idle if w not in keep)
                idle[:] = keep
        for worker in stale:
            self._forget(worker)
        return len(stale)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every worker process: its function, pid, busy or idle (and for how long), resident memory."""
        now = time.monotonic()
        with self._lock:
            idle = {worker: name for name, workers in self._idle.items() for worker in workers}
            every = list(self._all)
        return sorted(
            (
                {
                    "function": worker.function_name,
                    "pid": worker.process.pid,
                    "state": "idle" if worker in idle else "busy",
                    "idle_s": round(now - worker.last_used, 1) if worker in idle else None,
                    "rss_mb": system.rss_mb(worker.process.pid),
                }
                for worker in every
            ),
            key=lambda entry: (entry["function"], entry["pid"]),
        )

    def shutdown(self) -> None:
        with self._lock:
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            worker.kill()
