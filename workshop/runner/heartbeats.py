"""Heartbeat times kept beside the store, since the runner holds the last heartbeat only as a timer in memory."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger("workshop.runner.launcher")

HEARTBEAT_TABLE = "workshop_callback_heartbeats"


# ---------------------------------------------------------------------------
# Heartbeats: the runner keeps the last heartbeat only as a timer in memory.


class HeartbeatLog:
    """When each callback last received a heartbeat, kept beside the store."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {HEARTBEAT_TABLE} (callback_id TEXT PRIMARY KEY, at TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30.0)

    def record(self, callback_id: str, at: datetime) -> None:
        with self._lock, self._connect() as conn:
            conn.execute(f"INSERT OR REPLACE INTO {HEARTBEAT_TABLE} VALUES (?, ?)", (callback_id, at.isoformat()))

    def all(self) -> dict[str, datetime]:
        with self._lock, self._connect() as conn:
            return {cid: datetime.fromisoformat(at) for cid, at in conn.execute(f"SELECT callback_id, at FROM {HEARTBEAT_TABLE}")}

    def forget_except(self, active: set[str], recorded_before: dict[str, datetime]) -> None:
        """Drop records read at recovery (`recorded_before`) whose callback is no longer waiting."""
        with self._lock, self._connect() as conn:
            for cid, at in recorded_before.items():
                if cid not in active:
                    conn.execute(f"DELETE FROM {HEARTBEAT_TABLE} WHERE callback_id = ? AND at = ?", (cid, at.isoformat()))


def heartbeat_log_path(store_type: str, store_path: str | None) -> Path | None:
    """The sqlite file for heartbeats: the runner's own sqlite store, a file in a filesystem store; None in memory."""
    if store_type == "sqlite":
        return Path(store_path) if store_path else Path("durable-executions.db")
    if store_type == "filesystem":
        return Path(store_path or ".durable_executions") / "workshop-callback-heartbeats.sqlite"
    return None


def install_heartbeat_log(runner: Any, log: HeartbeatLog) -> None:
    """Record the time of every accepted heartbeat (the web handler calls executor.send_callback_heartbeat)."""
    executor = runner._executor
    original: Callable[..., Any] = executor.send_callback_heartbeat

    def send_callback_heartbeat(callback_id: str) -> Any:
        response = original(callback_id)
        try:
            log.record(callback_id, executor._clock.now())
        except Exception:  # noqa: BLE001 - a lost record only makes a later recovery count from the callback's start
            logger.exception("could not record the heartbeat of %s", callback_id)
        return response

    executor.send_callback_heartbeat = send_callback_heartbeat
