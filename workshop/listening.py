"""Listening sockets: our HTTP services' bind (function host, explorer).

A module of its own that imports the standard library only: the services
import it at start, and workshop.stack would bring the whole stack manager
with it. Who listens on a port is workshop.system's question (psutil).
"""

from __future__ import annotations

import socket


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
