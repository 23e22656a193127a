"""The function host's client for the durable runner: both ways in give the same reply and the same errors."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from workshop.host.errors import AwsError
from workshop.host.runner_client import RunnerClient


class _Http10(BaseHTTPRequestHandler):
    """Answers as dex-local-runner's server does: HTTP/1.0, headers and body, connection closed."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = 404 if self.path.startswith("/missing") else 200
        reply = b'{"echo": "%s", "path": "%s"}' % (body, self.path.encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def runner_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Http10)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("way", ["send", "forward"])
def test_status_type_and_body_come_back_as_the_runner_sent_them(runner_url: str, way: str) -> None:
    client = RunnerClient(runner_url)
    path = "/missing/arn%3Aaws%3Alambda?Include=true"  # percent-encoding and query passed as given
    if way == "send":
        reply = client.send("POST", path, b"x", {"Content-Type": "application/json"})
    else:
        reply = asyncio.run(client.forward("POST", path, b"x", {"Content-Type": "application/json"}))
    assert reply.status == 404
    assert reply.content_type == "application/x-amz-json-1.1"
    assert reply.body == b'{"echo": "x", "path": "/missing/arn%3Aaws%3Alambda?Include=true"}'


@pytest.mark.parametrize("way", ["send", "forward"])
def test_a_runner_that_is_not_there_is_a_503_naming_it(way: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    client = RunnerClient(url)
    with pytest.raises(AwsError) as raised:
        if way == "send":
            client.send("GET", "/x")
        else:
            asyncio.run(client.forward("GET", "/x", None, {}))
    assert raised.value.status == 503
    assert url in raised.value.message and "make status" in raised.value.message
