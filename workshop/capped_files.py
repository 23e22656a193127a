"""The one owner of the cap on the files the stack appends to while it runs: each
service's log, each function's log, and the X-Ray sink's segments.jsonl.

Policy (logging.handlers.RotatingFileHandler's): a file grows up to
WORKSHOP_LOG_MAX_MB (default 5 MB, 5,000,000 bytes); before a write that would
take it past the cap it is renamed NAME.1 (NAME.1 becomes NAME.2, and the old
NAME.2 is deleted) and a new NAME is begun. So each capped file takes at most
(1 + BACKUPS) x the cap on disk: 15 MB by default. A file is cut only after a
newline, so a log line or a segment document is never split across two files;
a single line longer than the cap gets a file of its own. That is exact for
the files our own code writes; the services' logs are rotated by copytruncate
once they have reached the cap (below), so they can pass it by a few seconds'
output, and a cut may fall inside a line (the readers join the files, so
the line still reads whole).

Why 5 MB and two backups: a full `make soak` (10,000 messages, 500 orders,
restarts) writes about 1 MB of segments and 1 MB of logs in all
(docs/soak.json), so the current file alone holds several full soaks' worth
of one kind, and the two backups keep what came before it. The X-Ray sink holds in
memory what is on disk (about 5x the file's size once parsed), so the cap also
bounds the sink: ~75 MB at most. The stack's ~16 capped files (5 services, ~11
functions) stay under ~240 MB on disk in the worst case.

Readers: read_bytes / read_lines / tail read NAME.2, NAME.1, then NAME, and
read again when a rotation happened meanwhile (a file's inode changed, or a
copytruncate's marker appeared), so a reader sees every line of the window
once, across a rotation. The window is what the files hold; older lines are
gone, which is the point of the cap.

Writers, two kinds:

- CappedFile.append, for the files our own code writes (segments.jsonl by
  the X-Ray sink, each function's log by the function host), one writer per
  file, under a lock: the rotation is a rename before the write that would
  pass the cap, so the cap is exact and nothing is lost.
- copytruncate, for each service's stdout and stderr log (<state>/logs/NAME.log),
  called every few seconds by the function host's log keeper
  (workshop/host/log_keeper.py). Why not a rotating writer there: not all a
  service writes goes through our Python code: MiniStack's output, a
  traceback at a crash (before any handler exists, or while the interpreter
  dies), C-level writes, and the function host's workers, whose stderr is
  the host's. The services keep what they had: the log opened with O_APPEND
  as their stdout and stderr (workshop.stack.processes). logrotate's
  "copytruncate": NAME is copied to NAME.1 and truncated to 0 in place; an
  O_APPEND writer's next write lands at the new end, so no process has to
  reopen anything and no extra process runs (a pipe to a "log pump" per
  service did the same without loss, at ~12 MB RSS each, ~60 MB for the
  stack). Known cost, as logrotate documents: a line written between the
  end of the copy and the truncate is lost. The window is kept to a few
  system calls: the copy reads to the end of the file, the copy is put in
  place as NAME.1, whatever was appended meanwhile is copied after it, and
  NAME is truncated at once. The cap is approximate: a log is rotated once
  it has reached the cap at a check, so it can pass the cap by what is
  written in one check interval (5 s).

  While a copytruncate runs, NAME.rotating exists (the copy is in
  NAME.copy until it becomes NAME.1): a reader that meets it waits for the
  rotation to end (a few milliseconds), so it does not show the copied lines
  twice (in NAME.1 and in NAME before the truncate). A marker older than
  STALE_ROTATION_S is one a killed host left; readers ignore it and the
  keeper removes it when it starts. A host killed mid-rotation can leave the
  copied lines in both NAME.1 and NAME: shown twice, never lost.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from pathlib import Path

SETTING = "WORKSHOP_LOG_MAX_MB"
DEFAULT_MAX_MB = 5.0
MAX_MB_LIMIT = 1024.0  # a cap above 1 GB per file is no cap on a laptop
BACKUPS = 2  # NAME.1 and NAME.2
MB = 1_000_000  # as the soak reports sizes
_READ_ATTEMPTS = 10
_READ_WAIT_S = 1.0  # at most this long a reader waits for a copytruncate in progress
STALE_ROTATION_S = 10.0  # a copytruncate marker older than this was left by a killed host
_COPY_CHUNK = 1 << 20


def max_mb_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """WORKSHOP_LOG_MAX_MB: the size in MB at which a log or segments.jsonl is rotated (default 5)."""
    raw = environ.get(SETTING, "").strip()
    if not raw:
        return DEFAULT_MAX_MB
    try:
        mb = float(raw)
    except ValueError as exc:
        raise SystemExit(f"{SETTING}={raw!r} is not a number of megabytes (e.g. {SETTING}=5 or {SETTING}=0.5)") from exc
    if not (math.isfinite(mb) and 0 < mb <= MAX_MB_LIMIT):
        raise SystemExit(f"{SETTING}={raw!r}: use more than 0 and at most {MAX_MB_LIMIT:.0f} (megabytes per file, {BACKUPS} older files kept)")
    return mb


def max_bytes_of(mb: float) -> int:
    return max(1, int(mb * MB))


def backup_path(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def files(path: str | Path) -> list[Path]:
    """The files of one capped file that exist, oldest first: NAME.2, NAME.1, NAME."""
    path = Path(path)
    candidates = [backup_path(path, n) for n in range(BACKUPS, 0, -1)] + [path]
    return [p for p in candidates if p.exists()]


def total_bytes(path: str | Path) -> int:
    total = 0
    for p in files(path):
        try:
            total += p.stat().st_size
        except OSError:
            pass
    return total


def rotation_marker(path: Path) -> Path:
    """NAME.rotating: present while copytruncate rotates NAME."""
    return path.with_name(f"{path.name}.rotating")


def _copy_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.copy")


def _rotating(path: Path) -> bool:
    try:
        return time.time() - rotation_marker(path).stat().st_mtime < STALE_ROTATION_S
    except OSError:
        return False


def _identity(path: Path) -> tuple[tuple[str, int], ...]:
    found = []
    for p in [backup_path(path, n) for n in range(BACKUPS, 0, -1)] + [path]:
        try:
            found.append((p.name, os.stat(p).st_ino))
        except OSError:
            pass
    return tuple(found)


def _read_newest_first(path: Path, enough: int | None) -> bytes:
    """NAME.2 + NAME.1 + NAME as one byte string, stopping early once `enough` newlines are read
    (newest file first); read again when a rotation happened meanwhile, and wait (up to
    _READ_WAIT_S) while a copytruncate is under way."""
    data = b""
    deadline = time.monotonic() + _READ_WAIT_S
    for _ in range(_READ_ATTEMPTS):
        while _rotating(path) and time.monotonic() < deadline:
            time.sleep(0.005)
        before = _identity(path)
        data, moved = b"", False
        for p in reversed([backup_path(path, n) for n in range(BACKUPS, 0, -1)] + [path]):
            try:
                data = p.read_bytes() + data
            except FileNotFoundError:
                if any(name == p.name for name, _ in before):
                    moved = True  # renamed between the listing and the read
                    break
                continue
            if enough is not None and data.count(b"\n") > enough:
                break
        # a copytruncate begun meanwhile shows as its marker; one ended meanwhile, as NAME.1's new inode
        if not moved and not _rotating(path) and _identity(path) == before:
            return data
    return data  # rotating on every read is not a real load; the last read is still whole lines


def read_bytes(path: str | Path) -> bytes:
    """Everything the capped file holds, oldest line first, across its rotations."""
    return _read_newest_first(Path(path), None)


def read_lines(path: str | Path) -> list[str]:
    return read_bytes(path).decode("utf-8", errors="replace").splitlines()


def read_text(path: str | Path) -> str:
    return read_bytes(path).decode("utf-8", errors="replace")


def tail(path: str | Path, lines: int) -> str:
    """The last `lines` lines across the rotation ("(no log)" when there is no file)."""
    path = Path(path)
    if not files(path):
        return "(no log)"
    data = _read_newest_first(path, lines)
    return "\n".join(data.decode("utf-8", errors="replace").splitlines()[-lines:])


class CappedFile:
    """Appends to `path`, rotating it before a write that would take it past `max_bytes`."""

    def __init__(self, path: str | Path, max_bytes: int | None = None) -> None:
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        self.path = Path(path)
        self.max_bytes = max_bytes or max_bytes_of(max_mb_from_env())

    def append(self, data: bytes) -> int:
        """Write `data`, cut after a newline where a rotation is due; the number of rotations.

        Opened for each call, so no descriptor is held between writes (and a
        file removed meanwhile is simply begun again). OSError is the caller's
        to handle: the sink counts it and goes on.
        """
        rotations, start, end = 0, 0, len(data)
        out = open(self.path, "ab")
        try:
            size = os.fstat(out.fileno()).st_size
            while start < end:
                room = self.max_bytes - size
                if end - start <= room:
                    out.write(data[start:])
                    break
                cut = data.rfind(b"\n", start, start + max(room, 0)) + 1  # after the last line that still fits; 0: none fits
                if cut == 0 and size == 0:  # a line longer than the cap: a file of its own
                    cut = (data.find(b"\n", start) + 1) or end
                if cut:
                    out.write(data[start:cut])
                    size += cut - start
                    start = cut
                    if start == end:
                        break
                out.close()
                self.rotate()
                rotations += 1
                out = open(self.path, "ab")
                size = 0
        finally:
            out.close()
        return rotations

    def rotate(self) -> None:
        """NAME.1 -> NAME.2 (replacing the oldest), NAME -> NAME.1; the next write begins NAME again."""
        for number in range(BACKUPS - 1, 0, -1):
            source = backup_path(self.path, number)
            if source.exists():
                os.replace(source, backup_path(self.path, number + 1))
        if self.path.exists():
            os.replace(self.path, backup_path(self.path, 1))


def _copy_to_end(source: int, target: int) -> None:
    while chunk := os.read(source, _COPY_CHUNK):
        view = memoryview(chunk)
        while view:
            view = view[os.write(target, view) :]


def copytruncate(path: str | Path, max_bytes: int) -> bool:
    """Rotate a log that other processes append to (O_APPEND) once it has reached `max_bytes`:
    copy NAME to NAME.1 (NAME.1 to NAME.2, the oldest deleted), then truncate NAME to 0 in place.

    True when it rotated. Why copytruncate for the services' logs, and what it
    costs (a line written between the end of the copy and the truncate is
    lost): the module's docstring. The steps keep that window to the second
    copy's last read and the truncate: the copy is read to NAME's end into
    NAME.copy, the backups are shifted and NAME.copy becomes NAME.1, whatever
    was appended during the first copy is copied after it, NAME is truncated.
    OSError is the caller's (a full disk: NAME.copy is removed, NAME left as it was).
    """
    path = Path(path)
    try:
        if path.stat().st_size < max_bytes:
            return False
    except FileNotFoundError:
        return False
    marker, copy = rotation_marker(path), _copy_path(path)
    marker.touch()
    try:
        source = os.open(path, os.O_RDWR)  # not O_APPEND, not O_TRUNC: read it, then truncate it
        try:
            target = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _copy_to_end(source, target)  # the bulk, while the services go on writing
                for number in range(BACKUPS - 1, 0, -1):
                    older = backup_path(path, number)
                    if older.exists():
                        os.replace(older, backup_path(path, number + 1))
                os.replace(copy, backup_path(path, 1))
                _copy_to_end(source, target)  # what was appended during the first copy
                os.ftruncate(source, 0)  # O_APPEND writers' next write lands at 0
            finally:
                os.close(target)
        finally:
            os.close(source)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    finally:
        marker.unlink(missing_ok=True)
    return True


def clear_stale_rotation(path: str | Path) -> None:
    """Remove what a copytruncate killed midway left (its marker and its unfinished copy)."""
    path = Path(path)
    rotation_marker(path).unlink(missing_ok=True)
    _copy_path(path).unlink(missing_ok=True)
