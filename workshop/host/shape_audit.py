"""Every reply the function host sends, checked against botocore's Lambda model, when WORKSHOP_SHAPE_AUDIT names a file.

Why in the host: the operations the SDK reads (CheckpointDurableExecution's
NewExecutionState, GetDurableExecutionState) go from a worker to the runner
through the host and never reach a test's client; checking at the host's
boundary sees them with everything a client sees (Invoke's headers, the
management APIs' bodies). Off unless the variable is set (the live test sets
it on its private stack): the check costs a model walk per reply.

One JSON line per reply: {"operation", "method", "path", "status", "problems"}.
Only 2xx replies are checked (errors have their own shape and are not
history); a reply that is not JSON counts as a problem.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

ENV_VAR = "WORKSHOP_SHAPE_AUDIT"


class ShapeAudit:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls) -> ShapeAudit | None:
        value = os.environ.get(ENV_VAR)
        return cls(Path(value)) if value else None

    def record(self, method: str, raw_path: str, status: int, body: bytes, headers: dict[str, str]) -> None:
        from workshop.inspect.shapes import all_problems, operation_for

        operation = operation_for(method, raw_path)
        if operation is None or not 200 <= status < 300:
            return
        try:
            parsed: Any = None if operation == "Invoke" else json.loads(body or b"{}")  # Invoke's body is the function's own
            problems = all_problems(operation, parsed, headers, status)
        except ValueError:
            problems = [f"{operation}: the body is not JSON: {body[:80]!r}"]
        except Exception as exc:  # noqa: BLE001 - an audit must not break the reply; the failure is the finding
            problems = [f"{operation}: the check failed: {exc!r}"]
        line = json.dumps({"operation": operation, "method": method, "path": raw_path.split("?")[0], "status": status, "problems": problems})
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def read(path: Path) -> list[dict[str, Any]]:
    """The audit's records (none if no reply was checked yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
