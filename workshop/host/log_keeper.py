"""The log keeper: a thread of the function host that caps the services' stdout/stderr logs.

Every service (the emulator, the runner, the X-Ray sink, the host itself, the
explorer) writes its output straight to <state>/logs/NAME.log, opened with
O_APPEND by workshop.stack.processes. Every CHECK_EVERY_S this thread looks at
each of those files and rotates one that has reached the cap with
workshop.capped_files.copytruncate (NAME.1, NAME.2; why copytruncate, and
what it costs, is in that module). The host runs it because the host is
always up in the local stack and a thread costs no process; while the host is
down (a restart), the logs simply wait for the next check.

Only the folder's own *.log files: each function's log (logs/functions/) is
capped by the host as it writes it (workshop.host.logsink).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from workshop import capped_files

log = logging.getLogger("function_host.log_keeper")

CHECK_EVERY_S = 5.0


class LogKeeper:
    """Checks `folder`/*.log every `every_s` until `stop_event` is set; rotates those at `max_bytes`."""

    def __init__(self, folder: Path, max_bytes: int, stop_event: threading.Event, every_s: float = CHECK_EVERY_S) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.every_s = every_s
        self._stop = stop_event
        self.rotations = 0
        self.thread = threading.Thread(target=self._run, name="log-keeper", daemon=True)

    def logs(self) -> list[Path]:
        return sorted(self.folder.glob("*.log"))

    def start(self) -> None:
        for path in self.logs():
            capped_files.clear_stale_rotation(path)  # a host killed mid-rotation: this thread is the only rotator
        self.thread.start()

    def join(self, timeout_s: float) -> bool:
        """After stop_event is set: wait for a rotation under way to end; True when the thread has ended."""
        if self.thread.is_alive():
            self.thread.join(timeout_s)
        return not self.thread.is_alive()

    def check(self) -> int:
        """One pass over the logs; how many were rotated."""
        rotated = 0
        for path in self.logs():
            try:
                if capped_files.copytruncate(path, self.max_bytes):
                    rotated += 1
                    log.info("rotated %s to %s.1 (cap %d bytes)", path.name, path.name, self.max_bytes)
            except OSError as exc:  # a full disk: try again at the next check, keep the host up
                log.warning("could not rotate %s: %s", path, exc)
        self.rotations += rotated
        return rotated

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - the keeper must outlive a bad pass
                log.warning("log keeper: %s", exc)
            self._stop.wait(self.every_s)
