"""The function host's HTTP endpoint: ROUTES (workshop.host.routes) served by Starlette on uvicorn.

Why Starlette on uvicorn rather than http.server: the SDK's checkpoints all
pass through here, several per step, and http.server wrote a reply's headers
and body in two sends, so on a kept-alive connection every reply waited for
the client's delayed ACK (~40 ms; see docs/BENCHMARKS.md). uvicorn's asyncio
transports write with TCP_NODELAY, keep connections alive, and Starlette
takes the route table as data. Handlers block (a synchronous Invoke waits
for its execution), so each runs in a worker thread; the thread limit is
raised because every handler run the runner asks for holds one while the
client's own Invoke holds another. uvloop (uvicorn's own choice of event
loop when it is installed) took a call through the host from 2.1 to 1.9 ms;
where it cannot be installed, uvicorn runs on asyncio's loop unchanged.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from workshop.config import StackConfig
from workshop.host.backend import FunctionHost
from workshop.host.errors import AwsError
from workshop.host.routes import ROUTES, Call, Operation, Reply, unknown_operation
from workshop.listening import listen_tcp

log = logging.getLogger("function_host")

HANDLER_THREADS = 256  # blocking handlers at once: 8 workers per function, and a waiting Invoke for each execution
GRACEFUL_STOP_S = 3.0  # in-flight requests get this long after SIGTERM; waits for executions end at once


async def _answer(operation: Operation, host: FunctionHost, call: Call) -> Reply:
    """Run one operation (blocking ones in a worker thread); every failure answers in Lambda's error shape."""
    try:
        if inspect.iscoroutinefunction(operation):
            return await operation(host, call)
        return await run_in_threadpool(operation, host, call)
    except AwsError as exc:
        return _error_reply(exc)
    except Exception as exc:  # noqa: BLE001 - a bug here must answer, not hang the client
        log.exception("unexpected error serving %s %s", call.method, call.raw_path)
        return _error_reply(AwsError(500, "ServiceException", f"function host error: {exc}"))


def _error_reply(exc: AwsError) -> Reply:
    return Reply(exc.status, exc.body(), {"x-amzn-ErrorType": exc.error_type})


def _response(reply: Reply) -> Response:
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()), **reply.headers}
    return Response(reply.body, reply.status, headers=headers)


def endpoint(host: FunctionHost, operation: Operation):  # noqa: ANN201 - a Starlette endpoint
    async def serve(request: Request) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        if request.url.query:
            raw_path += "?" + request.url.query
        call = Call(request.method, raw_path, request.path_params, request.query_params, request.headers, await request.body())
        reply = await _answer(operation, host, call)
        if host.shape_audit is not None:
            host.shape_audit.record(call.method, raw_path, reply.status, reply.body, reply.headers)
        return _response(reply)

    return serve


def build_app(host: FunctionHost) -> Starlette:
    async def not_served(request: Request, exc: HTTPException) -> Response:  # 404 and 405 alike, as before
        # The body is read first: answering before a large one has been sent made the client's send fail
        # (a broken pipe, no answer read) instead of showing the 404 (tests/integration/test_host_fuzz_live.py).
        await request.body()
        return _response(_error_reply(unknown_operation(request.method, request.url.path)))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = HANDLER_THREADS
        host.start()
        try:
            yield
        finally:
            host.stop()

    routes = [Route(spec.path, endpoint(host, spec.operation), methods=list(spec.methods)) for spec in ROUTES]
    return Starlette(routes=routes, exception_handlers={404: not_served, 405: not_served}, lifespan=lifespan)


class AwsShapedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, with its answer to a request it cannot parse in Lambda's error shape.

    A method httptools does not know (a typo, a fuzzer's), a malformed header
    or request line was answered with text/plain and no x-amzn-ErrorType, which
    botocore cannot read; found by tests/integration/test_host_fuzz_live.py.
    After the answer the connection lingers (our side shut for writing, what
    the client still sends read and dropped, closed LINGER_S later): closing
    at once reset the connection under a client still sending its body, and
    the reset threw the answer away before the client could read it.
    """

    LINGER_S = 5.0
    _lingering = False

    def data_received(self, data: bytes) -> None:
        if not self._lingering:
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        message = f"The function host could not parse this HTTP request: {msg}"
        content = json.dumps({"Type": "User", "message": message, "Message": message}).encode()
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend([
            b"content-type: application/json\r\n", b"x-amzn-ErrorType: InvalidRequestContentException\r\n",
            b"content-length: " + str(len(content)).encode("ascii") + b"\r\n", b"connection: close\r\n", b"\r\n", content,
        ])  # fmt: skip
        self.transport.write(b"".join(head))
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(self.LINGER_S, self.transport.close)


class _HostServer(uvicorn.Server):
    """Tells the backend at the signal, not after the in-flight requests end: a waiting Invoke returns at once."""

    def __init__(self, config: uvicorn.Config, host: FunctionHost) -> None:
        super().__init__(config)
        self._host = host

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        log.info("stopping (signal %d)", sig)
        self._host.stop_event.set()
        super().handle_exit(sig, frame)


def listen(config: StackConfig) -> socket.socket:
    return listen_tcp("function host", config.bind_host, config.host_port, "WORKSHOP_HOST_PORT", 128)


def serve(config: StackConfig) -> None:
    host = FunctionHost(config)
    sock = listen(config)
    uvicorn_config = uvicorn.Config(
        build_app(host), log_config=None, log_level="warning", access_log=False, http=AwsShapedHttpTools,
        lifespan="on", timeout_graceful_shutdown=GRACEFUL_STOP_S, proxy_headers=False, loop="auto",
    )  # fmt: skip
    log.info("function host listening on %s (runner %s, emulator %s)", config.host_url, config.runner_url, config.emulator_url)
    _HostServer(uvicorn_config, host).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description="The workshop's local Lambda endpoint.")
    parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    serve(StackConfig())


if __name__ == "__main__":
    main()
