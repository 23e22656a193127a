"""Listening sockets: our HTTP services' bind (function host, explorer), and who listens on a port (/proc).

A module of its own, standard library only: the services import it at start
(workshop.stack would bring the whole stack manager with it), and `make
doctor` imports it before any virtual environment exists.
"""

from __future__ import annotations

import os
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
    """The socket inodes listening on TCP `port` (or bound to UDP `port` too), from /proc/net; None without /proc."""
    tables = [("/proc/net/tcp", "0A"), ("/proc/net/tcp6", "0A")]  # 0A: LISTEN
    tables += [("/proc/net/udp", "07"), ("/proc/net/udp6", "07")] if udp else []  # 07: bound
    inodes: set[str] = set()
    readable = False
    for table, state in tables:
        try:
            with open(table, encoding="ascii") as rows:
                next(rows)
                readable = True
                for row in rows:
                    fields = row.split()
                    if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return inodes if readable else None


def sockets_of(pid: int | str) -> Iterator[str]:
    """The socket inodes a process holds (its /proc/<pid>/fd); raises OSError when they cannot be read."""
    folder = os.path.join("/proc", str(pid), "fd")
    for fd in os.listdir(folder):
        try:
            target = os.readlink(os.path.join(folder, fd))
        except OSError:  # closed meanwhile (the listing's own descriptor, for one)
            continue
        if target.startswith("socket:["):
            yield target[8:-1]
