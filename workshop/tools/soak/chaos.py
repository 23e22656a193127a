"""The chaos loop: SIGKILL a random worker every few seconds, restart the host and the runner once each.

Why these faults: a worker killed mid-invocation is Lambda's Runtime.ExitError
(the runner invokes again); the function host restarted drops every batch
in flight (the next host gives them back); the durable runner restarted
drops every execution's in-memory state (it recovers from its store). The
soak's invariants say that none of them loses or duplicates a record.

Workers are found through the host's own GET /_workshop/workers; the host
and runner are restarted by their recorded pids (workshop.stack.processes),
never by name.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from workshop import stack
from workshop.config import StackConfig
from workshop.stack import processes


def worker_pids(config: StackConfig) -> list[int]:
    """The function host's worker processes, as it reports them (none while it restarts)."""
    try:
        with urllib.request.urlopen(f"{config.host_url}/_workshop/workers", timeout=5) as response:
            return [int(w["pid"]) for w in json.loads(response.read())["Workers"]]
    except OSError:
        return []


def restart(config: StackConfig, name: str) -> float:
    """Stop one service by its recorded pid and start it again; the seconds it took to be healthy."""
    service = next(s for s in stack.SERVICES if s.name == name)
    started = time.monotonic()
    processes._stop(config, service)
    processes._start(config, service)
    return time.monotonic() - started


@dataclass
class Chaos:
    """A thread that kills workers every `kill_every_s` and restarts services when `progress()` passes their mark.

    progress() is the share of the workload done (0..1): the host is restarted
    at `host_at`, the runner at `runner_at`, so both happen mid-run whatever
    the machine's speed.
    """

    config: StackConfig
    progress: Callable[[], float]
    kill_every_s: float = 3.0
    host_at: float = 0.3
    runner_at: float = 0.6
    seed: int = 14
    kills: int = 0
    restarts: dict[str, float] = field(default_factory=dict)  # service -> seconds to healthy
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Chaos:
        self._thread = threading.Thread(target=self._loop, name="chaos", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        rng = random.Random(self.seed)
        while not self._stop.wait(self.kill_every_s * rng.uniform(0.5, 1.5)):
            try:
                self._turn(rng)
            except Exception as exc:  # noqa: BLE001 - recorded and reported; the soak fails on it
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _turn(self, rng: random.Random) -> None:
        done = self.progress()
        for name, mark in (("function-host", self.host_at), ("runner", self.runner_at)):
            if name not in self.restarts and done >= mark:
                self.restarts[name] = restart(self.config, name)
                return
        pids = worker_pids(self.config)
        if pids:
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:  # it ended by itself between the listing and the kill
                pass

    def missed(self) -> list[str]:
        """The restarts that did not happen (the workload ended before their mark)."""
        return [name for name in ("function-host", "runner") if name not in self.restarts]
