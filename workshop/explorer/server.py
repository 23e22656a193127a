"""The Durable Explorer's HTTP server: ROUTES (workshop.explorer.routes) served by Starlette on uvicorn.

Why the same stack as the function host: Starlette and uvicorn are already
pinned, Starlette takes the route table as data, and its Jinja2Templates
renders with autoescape on for .html, so every value a page shows (payloads
are user input) is escaped by default. Handlers read the stack with blocking
boto3 calls, so each runs in a worker thread. The server binds the loopback
(WORKSHOP_BIND_HOST; the compose stack publishes it on 127.0.0.1 only), makes
a new token at every start and refuses a POST without it (security.py).
"""

from __future__ import annotations

import argparse
import logging
import socket
import urllib.parse
from pathlib import Path
from typing import Any

import uvicorn
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from workshop.config import StackConfig
from workshop.explorer import filters
from workshop.explorer.backend import StackBackend
from workshop.explorer.routes import ROUTES, BadRequest, Page, Redirect, RouteSpec, Text, View
from workshop.explorer.security import HEADERS, Refused, check_host, check_post, new_token
from workshop.listening import listen_tcp
from workshop.inspect import InspectError
from workshop.inspect.client import error_text, not_running_message

log = logging.getLogger("explorer")

HERE = Path(__file__).resolve().parent
MAX_BODY = 2_000_000
NAV = (("/executions", "Executions"), ("/callbacks", "Callbacks"), ("/labs", "Labs"))


def templates() -> Jinja2Templates:
    renderer = Jinja2Templates(directory=str(HERE / "templates"))
    env = renderer.env
    env.autoescape = True  # every template, not only *.html: nothing reaches a page unescaped
    env.filters.update(filters.FILTERS)
    return renderer


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form, parsed here: Starlette's parser needs python-multipart, which nothing else needs."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadRequest("The form is too large.", 413)
    return dict(urllib.parse.parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def _failure(exc: Exception, backend: Any) -> tuple[int, str]:
    """A failure as a status and a message for the learner, never a traceback."""
    if isinstance(exc, (Refused, BadRequest)):
        return exc.status, exc.message
    if isinstance(exc, InspectError):
        return (400 if exc.code == 2 else 502), exc.message
    if isinstance(exc, EndpointConnectionError):
        config = getattr(backend, "config", None)
        return 503, not_running_message(config, exc.kwargs.get("endpoint_url", "")) if config else str(exc)
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        return (404 if code == "ResourceNotFoundException" else 409), error_text(exc)
    if isinstance(exc, BotoCoreError):
        return 502, str(exc)
    log.exception("explorer error")
    return 500, f"The explorer failed: {type(exc).__name__}: {exc}"


def endpoint(spec: RouteSpec, backend: Any, renderer: Jinja2Templates, token: str, hosts: frozenset[str]):  # noqa: ANN201
    async def serve(request: Request) -> Response:
        partial = request.query_params.get("partial") or None
        try:
            check_host(request.headers, hosts)
            form: dict[str, str] = {}
            if spec.changes_state:
                form = await _form(request)
                check_post(request.headers, form, token)
            page = Page(request.method, request.url.path, dict(request.query_params), form)
            outcome = await run_in_threadpool(spec.handler, backend, page)
        except Exception as exc:  # noqa: BLE001 - every failure answers with the error page
            status, message = _failure(exc, backend)
            outcome = View("error.html", {"message": message}, status=status)
            partial = None
        if isinstance(outcome, Redirect):
            return RedirectResponse(outcome.location, status_code=303, headers=HEADERS)
        if isinstance(outcome, Text):
            return PlainTextResponse(outcome.body, headers=HEADERS)
        context = {**outcome.context, "token": token, "nav": NAV, "path": request.url.path, "partial": partial, "request": request}
        headers = dict(HEADERS)
        if outcome.final:
            headers["X-Explorer-Final"] = "1"
        try:
            return renderer.TemplateResponse(request, outcome.template, context, status_code=outcome.status, headers=headers)
        except Exception as exc:  # noqa: BLE001 - a page that cannot be drawn is the error page, its cause in the log
            log.exception("explorer: could not render %s", outcome.template)
            failed = {"message": f"The explorer could not draw this page: {type(exc).__name__}: {exc}", "token": token, "nav": NAV,
                      "path": request.url.path, "partial": None, "request": request}  # fmt: skip
            return renderer.TemplateResponse(request, "error.html", failed, status_code=500, headers=HEADERS)

    return serve


def build_app(backend: Any, token: str | None = None) -> Starlette:
    """The ASGI app over a backend (StackBackend, or a fake in tests); a new token unless one is given."""
    token = token or new_token()
    renderer = templates()
    config = getattr(backend, "config", None)
    hosts = frozenset({config.explorer_host.lower()}) if config is not None else frozenset()
    routes: list[Any] = [Route(spec.path, endpoint(spec, backend, renderer, token, hosts), methods=list(spec.methods)) for spec in ROUTES]
    routes.append(Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"))
    app = Starlette(routes=routes)
    app.state.token = token
    return app


def listen(config: StackConfig) -> socket.socket:
    return listen_tcp("explorer", config.bind_host, config.explorer_port, "WORKSHOP_EXPLORER_PORT", 64)


def serve(config: StackConfig) -> None:
    sock = listen(config)
    app = build_app(StackBackend())
    uvicorn_config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="off", proxy_headers=False)
    log.info("explorer listening on http://%s:%d (function host %s)", config.bind_host, config.explorer_port, config.host_url)
    uvicorn.Server(uvicorn_config).run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description="The Durable Explorer: the local stack's executions in a browser.")
    parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    serve(StackConfig())


if __name__ == "__main__":
    main()
