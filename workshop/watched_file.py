"""A file's parsed content, parsed again whenever the file's modification time changes.

Why one class: the function host follows the function registry this way, and
the runner its function configs (workshop deploy changes both while they run).
Each caller says how to parse the file and what a file that does not parse
means: raise (the registry is always written whole, so that is a bug to see),
or keep the last good content and say so once (the runner must go on serving).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


class WatchedFile(Generic[T]):
    """``current()``: the file's content as ``parse`` reads it; ``initial`` until the file exists."""

    def __init__(
        self,
        path: Path,
        parse: Callable[[Path], T],
        initial: T,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self._path = Path(path)
        self._parse = parse
        self._content = initial
        # None: a parse error propagates (and the file is read again next time); else it is told once
        self._on_error = on_error
        self._mtime: int | None = None
        self._lock = threading.Lock()

    def current(self) -> T:
        with self._lock:
            try:
                mtime = self._path.stat().st_mtime_ns
            except FileNotFoundError:
                return self._content
            if mtime != self._mtime:
                if self._on_error is None:
                    self._content = self._parse(self._path)
                    self._mtime = mtime
                else:
                    self._mtime = mtime
                    try:
                        self._content = self._parse(self._path)
                    except (OSError, ValueError) as exc:
                        self._on_error(exc)
            return self._content
