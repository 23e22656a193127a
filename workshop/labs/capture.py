"""Log lines per invocation, captured in-process.

The durable test runner calls the handler once per invocation; what the
handler's loggers write between two calls belongs to one invocation. Loggers
keep the stream they were created with (Powertools' StreamHandler holds
sys.stdout as it was at import), so the capture swaps the stream of every
logging StreamHandler for the duration of a run instead of replacing
sys.stdout.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class InvocationLines(io.TextIOBase):
    """A stream that files complete lines under the current invocation."""

    def __init__(self) -> None:
        self.invocations: list[list[str]] = []
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def next_invocation(self) -> None:
        with self._lock:
            self.invocations.append([])

    def write(self, text: str) -> int:
        with self._lock:
            if not self.invocations:
                self.invocations.append([])
            self._partial += text
            *lines, self._partial = self._partial.split("\n")
            self.invocations[-1].extend(line for line in lines if line.strip())
        return len(text)


@contextmanager
def capture_log_lines() -> Iterator[InvocationLines]:
    sink = InvocationLines()
    swapped: list[tuple[logging.StreamHandler, Any]] = []
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if (
                isinstance(handler, logging.StreamHandler)
                and not isinstance(handler, logging.FileHandler)
                and not type(handler).__module__.startswith("_pytest")  # pytest's own log capture
            ):
                swapped.append((handler, handler.setStream(sink)))
    # print() (Powertools Metrics writes EMF this way) looks sys.stdout up at each call
    stdout, sys.stdout = sys.stdout, sink
    try:
        yield sink
    finally:
        sys.stdout = stdout
        for handler, previous in swapped:
            handler.setStream(previous)


def per_invocation(handler: Callable[[Any, Any], Any], sink: InvocationLines) -> Callable[[Any, Any], Any]:
    """Wrap a handler so each call opens a new bucket of lines."""

    def wrapper(event: Any, context: Any) -> Any:
        sink.next_invocation()
        return handler(event, context)

    return wrapper
