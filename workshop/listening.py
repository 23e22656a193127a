"""Listening sockets: our HTTP services' bind (function host, explorer), and whether a process listens on a port.

A module of its own that imports the standard library only: the services
import it at start (workshop.stack would bring the whole stack manager with
it), and `make doctor` imports it before any virtual environment exists. So
the answers of who listens come from workshop.system (psutil) only when it
can be imported, and are None ("cannot be told") when it cannot.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator


def listen_tcp(who: str, host: str, port: int, setting: str, backlog: int) -> socket.socket:
    """A listening socket for a service, bound here rather than in uvicorn: a port in use is named in our words.

    Exits (SystemExit) with the service, the address, the reason and the
    setting to change. The protocol is named: asyncio sets TCP_NODELAY only on
    sockets whose proto is IPPROTO_TCP, and accepted sockets inherit it from
    this one; without it a reply's headers and body meet Nagle and a delayed
    ACK (the function host's 43 ms, docs/BENCHMARKS.md).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"{who}: cannot listen on {host}:{port}: {exc.strerror}. Choose another port, e.g. {setting}={port + 1}") from exc
    sock.listen(backlog)
    return sock


def listening_inodes(port: int, udp: bool = False) -> set[str] | None:
    """Names of the sockets listening on TCP `port` (or bound to UDP `port` too); None when it cannot be told.

    A name is "pid:fd" (it was the socket's inode when procfs was read here; the
    name kept for scripts/doctor.py, which compares it with sockets_of()).
    """
    try:
        from workshop import system  # psutil: absent before `make env`
    except ImportError:
        return None
    found = system.listening_sockets(port, udp)
    return None if found is None else {f"{pid}:{fd}" for pid, fd in found}


def sockets_of(pid: int | str) -> Iterator[str]:
    """Names ("pid:fd") of the internet sockets a process holds; raises OSError when they cannot be read."""
    try:
        from workshop import system
    except ImportError as exc:
        raise OSError("psutil is not installed: run `make env`") from exc
    for holder, fd in system.sockets_of(int(pid)):
        yield f"{holder}:{fd}"
