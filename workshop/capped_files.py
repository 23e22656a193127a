"""The one owner of the cap on the files the stack appends to while it runs: each
service's log, each function's log, and the X-Ray sink's segments.jsonl.

Policy (logging.handlers.RotatingFileHandler's): a file grows up to
WORKSHOP_LOG_MAX_MB (default 5 MB, 5,000,000 bytes); before a write that would
take it past the cap it is renamed NAME.1 (NAME.1 becomes NAME.2, and the old
NAME.2 is deleted) and a new NAME is begun. So each capped file takes at most
(1 + BACKUPS) x the cap on disk: 15 MB by default. A file is cut only after a
newline, so a log line or a segment document is never split across two files;
a single line longer than the cap gets a file of its own.

Why 5 MB and two backups: a full `make soak` (10,000 messages, 500 orders,
restarts) writes about 1 MB of segments and 1 MB of logs in all
(docs/soak.json), so the current file alone holds several full soaks' worth
of one kind, and the two backups keep what came before it. The X-Ray sink holds in
memory what is on disk (about 5x the file's size once parsed), so the cap also
bounds the sink: ~75 MB at most. The stack's ~16 capped files (5 services, ~11
functions) stay under ~240 MB on disk in the worst case.

Readers: read_bytes / read_lines / tail read NAME.2, NAME.1, then NAME, and
read again when a rotation happened meanwhile (a file's inode changed), so a
reader sees every line of the window once, across a rotation. The window is
what the files hold; older lines are gone, which is the point of the cap.

Writers: CappedFile.append, one writer per file (the sink and the function
host write under a lock; each service's output has its own log pump).

Service output goes through a log pump, `python -S -m workshop.capped_files
pump LOG` (workshop.stack.processes starts one per service, the service's
stdout and stderr being the write end of a pipe whose read end is the pump's
stdin). Why a pump rather than each service writing its own log through a
rotating handler: not all a service writes goes through Python's logging:
MiniStack's output, a traceback at a crash (before any handler exists, or
while the interpreter dies), C-level writes, and the function host's workers,
whose stderr is the host's. A pipe catches all of it, and the pump is the
file's one writer, so a rotation is a rename that loses nothing (copytruncate,
which keeps a plain file as stdout, loses what is written between the copy and
the truncate). The pump lives as long as its input: it ends when the last
process holding the pipe's write end (the service and any child it started)
is gone, so nothing needs to stop it and nothing can leave it behind;
processes._stop still waits for it. Cost: one small process per service,
~12 MB RSS of which ~6 MB its own (the rest is the interpreter's shared
pages); stdlib only, started with -S.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path

SETTING = "WORKSHOP_LOG_MAX_MB"
DEFAULT_MAX_MB = 5.0
MAX_MB_LIMIT = 1024.0  # a cap above 1 GB per file is no cap on a laptop
BACKUPS = 2  # NAME.1 and NAME.2
MB = 1_000_000  # as the soak reports sizes
_READ_ATTEMPTS = 10
_PIPE_BYTES = 1 << 20  # the pump's pipe: room for a burst while the pump writes (Linux's default is 64 KiB)


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
    (newest file first); read again when a rotation happened meanwhile."""
    data = b""
    for _ in range(_READ_ATTEMPTS):
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
        if not moved and _identity(path) == before:
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
        to handle: the sink counts it, the pump drops the chunk.
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


def pump(source_fd: int, target: CappedFile) -> None:
    """Copy what arrives on `source_fd` into `target` until end of file (every writer gone).

    A chunk that cannot be written (a full disk) is dropped and counted in a
    line of the log once writing works again: the service must never block
    or fail because its log cannot be written.
    """
    try:
        import fcntl

        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux only
            fcntl.fcntl(source_fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:
        pass  # not a pipe, or above /proc/sys/fs/pipe-max-size: the default buffer works too
    dropped = 0
    while True:
        try:
            data = os.read(source_fd, 65536)
        except InterruptedError:
            continue
        if not data:
            return
        try:
            if dropped:
                target.append(f"[log pump] {dropped} bytes of output could not be written and were dropped\n".encode())
                dropped = 0
            target.append(data)
        except Exception:  # noqa: BLE001 - drop this chunk, keep the service's pipe flowing
            dropped += len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.capped_files", description="The stack's capped files.")
    commands = parser.add_subparsers(dest="command", required=True)
    pumping = commands.add_parser("pump", help="copy stdin into a capped log until end of file")
    pumping.add_argument("log", type=Path)
    pumping.add_argument("--max-bytes", type=int, help=f"the cap (default: {SETTING}, else {DEFAULT_MAX_MB:g} MB)")
    args = parser.parse_args(argv)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    pump(sys.stdin.fileno(), CappedFile(args.log, args.max_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
