"""The invocation index: which request id served which durable execution, for `workshop timeline`."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any


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
