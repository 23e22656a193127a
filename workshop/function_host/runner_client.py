"""HTTP from the function host to dex-local-runner.

The runner's web server answers HTTP/1.0 and closes every connection after
its reply, so there is nothing to keep alive: one connection per call.
http.client is enough, and it sends a request's headers and body in one
write and sets TCP_NODELAY, so no call waits on a delayed ACK.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from workshop.function_host.errors import AwsError


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
            raise AwsError(
                503, "ServiceException", f"The durable runner at {self.base_url} is not reachable: {exc}. Is the stack up? (make status)"
            ) from exc
        finally:
            connection.close()

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
