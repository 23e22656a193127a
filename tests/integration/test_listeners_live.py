"""Every socket the running stack listens on is bound to 127.0.0.1 (or ::1), never to all interfaces.

Read from /proc (Linux): the socket inodes held by each service's process and
all its descendants (the function host's workers included), matched against
/proc/net/tcp, tcp6, udp and udp6. TCP counts in LISTEN state; UDP counts when
it is unconnected (a bound, unconnected UDP socket receives from anyone who
can reach its address). Connected sockets are clients, not listeners.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop import stack
from workshop.tools.measure import descendants
from workshop.config import StackConfig, boto3_client

pytestmark = pytest.mark.live

LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}  # 127.0.0.1, ::1, ::ffff:127.0.0.1
TCP_LISTEN, UDP_UNCONNECTED = "0A", "07"




def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def listeners() -> dict[str, tuple[str, str, int]]:
    """inode -> (table, local address hex, port) for TCP listeners and unconnected UDP sockets."""
    found = {}
    for table, state in (("tcp", TCP_LISTEN), ("tcp6", TCP_LISTEN), ("udp", UDP_UNCONNECTED), ("udp6", UDP_UNCONNECTED)):
        with open(f"/proc/net/{table}", encoding="ascii") as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] != state:
                    continue
                address, port = fields[1].rsplit(":", 1)
                found[fields[9]] = (table, address, int(port, 16))
    return found


def test_every_listener_of_the_running_stack_binds_loopback(live_stack: StackConfig) -> None:
    # Wake a few workers first, so their sockets (X-Ray emitters, SDK clients) are looked at too.
    lam = boto3_client("lambda", live_stack)
    payload = {"order_id": f"listeners-{id(lam)}", "customer_id": "c-1", "items": [{"sku": "SKU-BOOK", "quantity": 1}], "amount": "1.00", "currency": "EUR"}
    lam.invoke(FunctionName="order-saga:live", Payload=json.dumps(payload).encode())

    table = listeners()
    seen: dict[str, list[tuple[str, str, int]]] = {}
    for service in stack.SERVICES:
        pid = stack.running_pid(live_stack, service)
        assert pid is not None, f"{service.name} is not running"
        for process in descendants(pid):
            for inode in socket_inodes(process):
                if inode in table:
                    seen.setdefault(service.name, []).append(table[inode])

    exposed = {name: [s for s in sockets if s[1] not in LOOPBACK] for name, sockets in seen.items()}
    assert not any(exposed.values()), f"bound beyond 127.0.0.1: {exposed}"
    # ... and the check saw the service ports themselves, so it looked in the right place.
    ports = {name: {port for _, _, port in sockets} for name, sockets in seen.items()}
    for service in stack.SERVICES:
        assert service.port(live_stack) in ports.get(service.name, set()), (service.name, ports)
    assert any(t.startswith("udp") and port == live_stack.xray_port for t, _, port in seen["xray-sink"])
