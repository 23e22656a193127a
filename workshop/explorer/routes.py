"""The explorer's pages and actions: one handler each, listed in ROUTES.

A handler takes the backend (workshop.explorer.backend.StackBackend, or a
fake in tests) and the parsed Page, and returns a View (a template and its
context) or a Redirect; it never sees the web framework, the token or HTML.
workshop.explorer.server turns ROUTES into the ASGI app, checks every POST
(workshop.explorer.security) before its handler runs, renders the templates
with autoescape and answers failures with the error page.

  GET  /                      the executions page
  GET  /executions            every durable execution, newest first (?function=&status=)
  GET  /execution?arn=        the replay grid (&op=ID&inv=N: a cell, &inv=N: a column)
  GET  /callbacks             pending callbacks and approval requests
  POST /callbacks/succeed     SendDurableExecutionCallbackSuccess  (callback_id, result)
  POST /callbacks/fail        SendDurableExecutionCallbackFailure  (callback_id, error_type, error_message)
  POST /callbacks/heartbeat   SendDurableExecutionCallbackHeartbeat (callback_id)
  POST /approvals/approve     workshop approve (request_id, approver, comment)
  POST /approvals/reject      workshop reject (request_id, reason)
  GET  /labs                  each lab's stages from the progress file
  GET  /health                readiness (the stack's health check)

Any page takes ?partial=live (or panel): only its live region, which the
page's script polls and swaps in.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workshop.explorer.backend import STATUSES
from workshop.paste import pasteable

DEFAULT_APPROVER = "explorer"
MAX_TEXT = 1_000_000  # a callback result larger than this is refused here (AWS allows 256 KiB)


@dataclass(frozen=True)
class Page:
    """One request as the handlers see it."""

    method: str
    path: str
    query: Mapping[str, str]
    form: Mapping[str, str] = field(default_factory=dict)


@dataclass
class View:
    template: str
    context: dict[str, Any]
    status: int = 200
    final: bool = False  # nothing on it changes any more: the page's script stops polling


@dataclass
class Redirect:
    location: str


@dataclass
class Text:
    body: str


class BadRequest(Exception):
    """A form or query the handler cannot use; the message is shown on the error page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


Handler = Callable[[Any, Page], View | Redirect | Text]


def _required(values: Mapping[str, str], name: str) -> str:
    value = (values.get(name) or "").strip()
    if not value:
        raise BadRequest(f"{name} is required.")
    return value


# ---------------------------------------------------------------- pages
def health(backend: Any, page: Page) -> Text:
    return Text("ok")


def home(backend: Any, page: Page) -> Redirect:
    return Redirect("/executions")


def executions(backend: Any, page: Page) -> View:
    function = page.query.get("function") or None
    status = page.query.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}.")
    functions = backend.functions()
    rows = backend.executions(function, status)
    return View("executions.html", {"rows": rows, "functions": functions, "statuses": STATUSES, "function": function, "status": status})


def execution(backend: Any, page: Page) -> View:
    arn = _required(page.query, "arn")
    view = backend.execution(arn)
    inv = page.query.get("inv")
    number = int(inv) if inv and inv.isdigit() else None
    op_id = page.query.get("op")
    operation = backend.operation(view, op_id, number) if op_id and number else None
    invocation = backend.invocation(view, number) if number and not op_id else None
    context = {
        "view": view,
        "timeline": view.timeline,
        "grid": view.grid,
        "operation": operation,
        "invocation": invocation,
        "cli": pasteable(["workshop", "timeline", arn]),
        "cli_show": pasteable(["workshop", "show", arn]),
        "result": _pretty_json(view.timeline.result),
    }
    return View("execution.html", context, final=not view.running)


def callbacks(backend: Any, page: Page) -> View:
    pending = backend.callbacks()
    try:
        approvals, approvals_problem = backend.approvals(), None
    except Exception as exc:  # noqa: BLE001 - no approval-wait function: the callbacks still show
        approvals, approvals_problem = [], getattr(exc, "message", str(exc))
    context = {
        "pending": pending,
        "approvals": approvals,
        "approvals_problem": approvals_problem,
        "done": page.query.get("done"),
        "ref": page.query.get("ref"),
        "default_approver": DEFAULT_APPROVER,
    }
    return View("callbacks.html", context)


def labs(backend: Any, page: Page) -> View:
    return View("labs.html", {"labs": backend.labs()})


# -------------------------------------------------------------- actions
def _done(what: str, ref: str) -> Redirect:
    return Redirect("/callbacks?" + urllib.parse.urlencode({"done": what, "ref": ref}))


def callback_succeed(backend: Any, page: Page) -> Redirect:
    callback_id = _required(page.form, "callback_id")
    result = page.form.get("result")
    if result is not None and result.strip() == "":
        result = None
    if result is not None:
        if len(result) > MAX_TEXT:
            raise BadRequest("The result is too large.")
        try:
            json.loads(result)
        except ValueError as exc:
            raise BadRequest(f"The result is not valid JSON ({exc}); nothing was sent.") from exc
    backend.succeed(callback_id, result)
    return _done("succeeded", callback_id)


def callback_fail(backend: Any, page: Page) -> Redirect:
    callback_id = _required(page.form, "callback_id")
    backend.fail(callback_id, page.form.get("error_type") or None, page.form.get("error_message") or None)
    return _done("failed", callback_id)


def callback_heartbeat(backend: Any, page: Page) -> Redirect:
    callback_id = _required(page.form, "callback_id")
    backend.heartbeat(callback_id)
    return _done("heartbeat", callback_id)


def approve(backend: Any, page: Page) -> Redirect:
    request_id = _required(page.form, "request_id")
    backend.approve(request_id, (page.form.get("approver") or "").strip() or DEFAULT_APPROVER, page.form.get("comment") or None)
    return _done("approved", request_id)


def reject(backend: Any, page: Page) -> Redirect:
    request_id = _required(page.form, "request_id")
    backend.reject(request_id, _required(page.form, "reason"))
    return _done("rejected", request_id)


def _pretty_json(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@dataclass(frozen=True)
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    handler: Handler

    @property
    def changes_state(self) -> bool:
        return "POST" in self.methods


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/", ("GET",), home),
    RouteSpec("/health", ("GET",), health),
    RouteSpec("/executions", ("GET",), executions),
    RouteSpec("/execution", ("GET",), execution),
    RouteSpec("/callbacks", ("GET",), callbacks),
    RouteSpec("/callbacks/succeed", ("POST",), callback_succeed),
    RouteSpec("/callbacks/fail", ("POST",), callback_fail),
    RouteSpec("/callbacks/heartbeat", ("POST",), callback_heartbeat),
    RouteSpec("/approvals/approve", ("POST",), approve),
    RouteSpec("/approvals/reject", ("POST",), reject),
    RouteSpec("/labs", ("GET",), labs),
)
