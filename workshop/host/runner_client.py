"""HTTP from the function host to dex-local-runner.

The runner's web server answers HTTP/1.0 and closes every connection after
its reply, so there is nothing to keep alive: one connection per call.
Two ways in, one for each kind of caller:
- send/call, blocking, for the host's own calls from worker threads and
  pollers (http.client: headers and body in one write, TCP_NODELAY);
- forward, on the event loop, for the durable APIs a client sends through
  the host (the SDK's checkpoints among them): no hop to a worker thread,
  which measured 0.2 ms of the host's 0.7 ms per call. h11 (uvicorn's own
  HTTP/1.1 parser) frames it.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import h11

from workshop.host.errors import AwsError


@dataclass(frozen=True)
class RunnerReply:
    status: int
    content_type: str
    body: bytes


class RunnerClient:
    def __init__(self, base_url: str) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.base_url = base_url
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 80

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout_s: float = 60) -> RunnerReply:
        """One request as given (path percent-encoded, query included); any status comes back, unreachable is a 503."""
        connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout_s)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return RunnerReply(response.status, response.getheader("Content-Type", "application/json"), response.read())
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from exc
        finally:
            connection.close()

    async def forward(self, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout_s: float = 60) -> RunnerReply:
        """send(), on the event loop."""
        try:
            async with asyncio.timeout(timeout_s):
                reader, writer = await asyncio.open_connection(self._host, self._port)
                try:
                    return await self._exchange(reader, writer, method, path, body, headers)
                finally:
                    writer.close()
        except (OSError, TimeoutError, h11.ProtocolError) as exc:
            raise self._unreachable(exc) from exc

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> RunnerReply:
        connection = h11.Connection(h11.CLIENT)
        # latin-1 bytes, as the client sent them: h11 encodes a str value as ASCII, and a client's
        # non-ASCII Authorization header made that a 500 (found by tests/integration/test_host_fuzz_live.py)
        fields = [("Host", f"{self._host}:{self._port}"), *((name, value.encode("latin-1")) for name, value in headers.items())]
        if body:
            fields.append(("Content-Length", str(len(body))))
        out = connection.send(h11.Request(method=method, target=path, headers=fields))
        if body:
            out += connection.send(h11.Data(data=body))
        writer.write(out + connection.send(h11.EndOfMessage()))  # one write: the whole request
        status, content_type, chunks = 0, "application/json", []
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                connection.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
                content_type = dict(event.headers).get(b"content-type", b"application/json").decode("latin-1")
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return RunnerReply(status, content_type, b"".join(chunks))

    def _unreachable(self, exc: BaseException) -> AwsError:
        reason = str(exc) or type(exc).__name__
        return AwsError(503, "ServiceException", f"The durable runner at {self.base_url} is not reachable: {reason}. Is the stack up? (make status)")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout_s: float = 30) -> dict[str, Any]:
        """A JSON call the host makes itself; the runner's error becomes the same AWS error."""
        data = json.dumps(body).encode() if body is not None else None
        reply = self.send(method, path, data, {"Content-Type": "application/json"}, timeout_s)
        if reply.status >= 400:
            payload = json_or_text(reply.body)
            if isinstance(payload, dict):
                message = payload.get("message") or payload.get("Message") or str(payload)
                raise AwsError(reply.status, payload.get("Type", "ServiceException"), message)
            raise AwsError(reply.status, "ServiceException", str(payload))
        return json.loads(reply.body) if reply.body else {}


def json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
