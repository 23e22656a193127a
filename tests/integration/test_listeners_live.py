"""Every socket the running stack listens on is bound to 127.0.0.1 (or ::1), never to all interfaces.

Asked of psutil: the internet sockets held by each service's process and all
its descendants (the function host's workers included). TCP counts in LISTEN
state; UDP counts when it is unconnected (a bound, unconnected UDP socket
receives from anyone who can reach its address). Connected sockets are
clients, not listeners.
"""

from __future__ import annotations

import json
import socket

import psutil
import pytest

from workshop import stack, system
from workshop.config import StackConfig, boto3_client

pytestmark = pytest.mark.live

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def listeners(pid: int) -> list[tuple[str, str, int]]:
    """(kind, local address, port) of the TCP listeners and unconnected UDP sockets of one process."""
    try:
        sockets = psutil.Process(pid).net_connections("inet")
    except psutil.Error:  # ended meanwhile (a worker)
        return []
    found = []
    for sock in sockets:
        udp = sock.type == socket.SOCK_DGRAM
        if (sock.status == psutil.CONN_LISTEN or (udp and not sock.raddr)) and sock.laddr:
            found.append(("udp" if udp else "tcp", sock.laddr.ip, sock.laddr.port))
    return found


def test_every_listener_of_the_running_stack_binds_loopback(live_stack: StackConfig) -> None:
    # Wake a few workers first, so their sockets (X-Ray emitters, SDK clients) are looked at too.
    lam = boto3_client("lambda", live_stack)
    payload = {"order_id": f"listeners-{id(lam)}", "customer_id": "c-1", "items": [{"sku": "SKU-BOOK", "quantity": 1}], "amount": "1.00", "currency": "EUR"}
    lam.invoke(FunctionName="order-saga:live", Payload=json.dumps(payload).encode())

    seen: dict[str, list[tuple[str, str, int]]] = {}
    for service in stack.SERVICES:
        pid = stack.running_pid(live_stack, service)
        assert pid is not None, f"{service.name} is not running"
        for process in system.tree_pids(pid):
            seen.setdefault(service.name, []).extend(listeners(process))

    exposed = {name: [s for s in sockets if s[1] not in LOOPBACK] for name, sockets in seen.items()}
    assert not any(exposed.values()), f"bound beyond 127.0.0.1: {exposed}"
    # ... and the check saw the service ports themselves, so it looked in the right place.
    ports = {name: {port for _, _, port in sockets} for name, sockets in seen.items()}
    for service in stack.SERVICES:
        assert service.port(live_stack) in ports.get(service.name, set()), (service.name, ports)
    assert any(t.startswith("udp") and port == live_stack.xray_port for t, _, port in seen["xray-sink"])
