"""Ports on 127.0.0.1: which are free, who holds a taken one, and a private stack on free ones (tests, measure, bench)."""

from __future__ import annotations

import atexit
import os
import random
import socket
import tempfile
import time
from pathlib import Path

from workshop.config import StackConfig
from workshop.system import port_owner  # noqa: F401 - the stack names who holds a taken port; tests import it from here


def _below_the_ephemeral_range() -> range:
    """Ports the kernel never hands out as an outgoing connection's source port.

    A port bound with 0 comes from the ephemeral range, the same numbers every
    outgoing connection (any process's boto3 call) is given as its source port:
    while a private stack restarts on its ports (a test of `make down && make
    up`), one of them could be taken that way and the restart would fail.
    The range starts at 32768 on Linux by default and at 49152 on macOS and
    Windows; the ports below 32768 are clear of both without asking the kernel.
    """
    return range(20000, 32768)


_PRIVATE_PORTS = _below_the_ephemeral_range()


# A port picked for a private stack is claimed here until the picking process ends.
CLAIMS = Path(tempfile.gettempdir()) / "workshop-port-claims"
CLAIM_MAX_AGE_S = 6 * 3600.0  # a claim older than this is stale even if its pid lives (pids are reused)
_CLAIM_BEING_WRITTEN_S = 5.0
_held: set[Path] = set()  # this process's claims, removed when it exits


def _release_held() -> None:
    for path in list(_held):
        try:
            if path.read_text().strip() == str(os.getpid()):
                path.unlink()
        except OSError:
            pass
    _held.clear()


def claim(port: int) -> bool:
    """Claim a picked port for this process: False when another live process (or this one) claimed it.

    Why: a port is picked free and bound only when the stack starts, seconds
    later. Test processes picking at once met on a port (found in CI: two
    workers' stacks, 5 ports each out of ~12,700, one explorer port taken by
    the other's function host), so picks are claimed with O_EXCL files, one
    per port, removed when the process exits. A claim of a process that
    ended without removing it (killed) is taken over.
    """
    try:
        CLAIMS.mkdir(mode=0o777, exist_ok=True)
        path = CLAIMS / str(port)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not _stale(path):
                    return False
                path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as out:
                out.write(str(os.getpid()))
            if not _held:
                atexit.register(_release_held)
            _held.add(path)
            return True
        return False
    except PermissionError:  # a folder of another user's: no coordination, as before claims
        return True


def _stale(path: Path) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
        text = path.read_text()
    except OSError:
        return True
    if not text.strip():
        return age > _CLAIM_BEING_WRITTEN_S  # its writer is between the create and the write
    if age > CLAIM_MAX_AGE_S:
        return True
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return not text.strip().isdigit()
    return False


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A 127.0.0.1 port nothing listens on, below the ephemeral range, claimed for this process.

    SOCK_DGRAM: free for UDP and for TCP, since the X-Ray sink listens on both
    under one number. Chosen at random among the unclaimed (see claim()); the
    kernel's own choice if a few hundred tries find none.
    """
    udp = kind == socket.SOCK_DGRAM
    for port in random.sample(_PRIVATE_PORTS, min(300, len(_PRIVATE_PORTS))):
        if port_free("127.0.0.1", port, udp=udp) and claim(port):
            return port
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def private_config(state_dir: Path, **overrides: object) -> StackConfig:
    """A stack on free ports with its own state folder: tests, measure and bench never touch a learner's."""
    kinds = {
        "emulator_port": socket.SOCK_STREAM,
        "runner_port": socket.SOCK_STREAM,
        "host_port": socket.SOCK_STREAM,
        "xray_port": socket.SOCK_DGRAM,  # the sink listens on UDP and TCP
        "explorer_port": socket.SOCK_STREAM,
    }
    ports: dict[str, int] = {}
    for name, kind in kinds.items():
        ports[name] = free_port(kind)  # claimed: never one this stack (or another test process) picked
    return StackConfig(state_dir=state_dir, **{**ports, **overrides})  # type: ignore[arg-type]


def port_free(host: str, port: int, udp: bool = False) -> bool:
    """Whether the TCP port (and, with udp=True, the UDP port of the same number) can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    if udp:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True
