"""Ports on 127.0.0.1: which are free, who holds a taken one, and a private stack on free ones (tests, measure, bench)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from workshop.config import StackConfig


def port_owner(port: int, udp: bool = False) -> str | None:
    """Who listens on a TCP (or bound UDP) port, from /proc (Linux); None when it cannot be told."""
    try:
        inodes = set()
        tables = (("/proc/net/tcp", "0A"), ("/proc/net/tcp6", "0A"))
        tables += (("/proc/net/udp", "07"), ("/proc/net/udp6", "07")) if udp else ()
        for table, listening in tables:
            with open(table, encoding="ascii") as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if fields[3] == listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                for fd in (proc / "fd").iterdir():
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                        return f"pid {proc.name}: {cmd[:120]}"
            except OSError:
                continue
    except OSError:
        return None
    return None


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A 127.0.0.1 port nothing listens on (bound, read, released); SOCK_DGRAM for UDP."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def private_config(state_dir: Path, **overrides: object) -> StackConfig:
    """A stack on free ports with its own state folder: tests, measure and bench never touch a learner's."""
    ports = {
        "emulator_port": free_port(),
        "runner_port": free_port(),
        "host_port": free_port(),
        "xray_port": free_port(socket.SOCK_DGRAM),  # the sink listens on UDP and TCP
        "explorer_port": free_port(),
    }
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
