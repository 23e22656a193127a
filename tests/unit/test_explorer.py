"""The explorer without a stack: the replay grid from recorded executions, and the server over a fake backend.

The server runs for real (uvicorn on a free 127.0.0.1 port, in a thread of
this process) and is asked over HTTP, so escaping, the token, the Origin and
Host checks and the error pages are what a browser would get. The fake backend
records the actions it is asked for: a refused POST must not reach it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from workshop.explorer.backend import ExecutionView, InvocationView, SpanRow, metric_rows
from workshop.explorer.grid import build_grid
from workshop.explorer.server import build_app
from workshop.inspect.timeline import build_timeline
from workshop.stack import free_port

FIXTURES = Path(__file__).parent / "fixtures"
SCRIPT = "<script>window.pwned = 1</script>"
TOKEN = "test-token-0123456789"


def saga() -> tuple[Any, list[dict[str, Any]]]:
    recorded = json.loads((FIXTURES / "timeline_saga.json").read_text(encoding="utf-8"))
    timeline = build_timeline(recorded["history"], recorded["invocations"], recorded["logs"], recorded["execution_arn"])
    return timeline, recorded["history"]


# ------------------------------------------------------------------ the grid
def test_grid_rows_are_operations_in_code_order_under_their_contexts() -> None:
    timeline, history = saga()
    grid = build_grid(timeline, history)
    assert [(row.name, row.depth) for row in grid.rows] == [
        ("reserve", 0), ("charge", 0), ("approval", 0), ("approval create callback id", 1), ("approval submitter", 1), ("cool-off", 0),
    ]  # fmt: skip
    approval = grid.rows[2]
    assert all(row.parent_id == approval.op_id for row in grid.rows[3:5])


def test_grid_cells_say_ran_replayed_suspended_or_not_reached() -> None:
    grid = build_grid(*saga())
    states = {row.name: [cell.state for cell in row.cells] for row in grid.rows}
    assert states["reserve"] == ["ran", "replayed", "replayed", "replayed"]
    # charge fails on attempt 1 (what invocation 1 ended on), runs again as attempt 2
    assert states["charge"] == ["suspended", "ran", "replayed", "replayed"]
    assert [cell.attempt for cell in grid.rows[1].cells[:2]] == [1, 2]
    assert grid.rows[1].cells[0].started_here
    assert states["approval create callback id"] == ["not-reached", "suspended", "replayed", "replayed"]
    assert states["cool-off"] == ["not-reached", "not-reached", "suspended", "replayed"]


def test_grid_columns_say_what_woke_each_invocation() -> None:
    grid = build_grid(*saga())
    assert [column.woken_by for column in grid.columns] == [
        "the first start", "the retry back-off (charge)", "the callback (approval create callback id)", "the timer (cool-off)",
    ]  # fmt: skip
    assert [column.temperature for column in grid.columns] == ["cold", "warm", "warm", "warm"]


def test_grid_shows_where_the_sdks_replay_record_disagrees() -> None:
    timeline, history = saga()
    op = timeline.invocations[1].ran[0]
    op.confirmed, op.disagreement = False, "history: ran; SDK recorder: replayed"
    cell = next(row for row in build_grid(timeline, history).rows if row.op_id == op.id).cells[1]
    assert cell.state == "ran"  # the history wins ...
    assert cell.confirmed is False and cell.notes == ["the SDK's replay record disagrees: history: ran; SDK recorder: replayed"]


# ------------------------------------------------------------- the server
@dataclass
class FakeBackend:
    """What the pages read, with a payload that is an attack, and the actions asked for."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def config(self) -> Any:
        from workshop.config import StackConfig

        return StackConfig(state_dir=Path("/nonexistent"), explorer_host="127.0.0.1")

    def functions(self) -> list[str]:
        return ["order-saga"]

    def executions(self, function: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        return [{"arn": "arn:x", "name": SCRIPT, "function": "order-saga", "status": "RUNNING", "started": 0.0, "duration_s": None, "invocations": 1}]

    def execution(self, arn: str) -> ExecutionView:
        if arn == "arn:missing":
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": f"no execution {SCRIPT}"}}, "GetDurableExecutionHistory")
        timeline, history = saga()
        timeline.execution_name = SCRIPT
        return ExecutionView(arn, "order-saga", timeline, build_grid(timeline, history), history, input=json.dumps({"order_id": SCRIPT}))

    def operation(self, view: ExecutionView, op_id: str, number: int) -> None:
        return None

    def invocation(self, view: ExecutionView, number: int) -> Any:
        if number == 2:
            return invocation_with_metrics()
        return BrokenInvocation() if number == 99 else None

    def callbacks(self) -> list[dict[str, Any]]:
        return [{"execution": SCRIPT, "execution_arn": "arn:x", "operation": SCRIPT, "since": 0.0, "callback_id": "cb-1"}]

    def approvals(self) -> list[dict[str, Any]]:
        return []

    def labs(self) -> list[dict[str, Any]]:
        return []

    def succeed(self, callback_id: str, result: str | None) -> None:
        self.calls.append(("succeed", callback_id, result))

    def fail(self, *args: Any) -> None:
        self.calls.append(("fail", *args))

    def heartbeat(self, callback_id: str) -> None:
        self.calls.append(("heartbeat", callback_id))

    def approve(self, *args: Any) -> None:
        self.calls.append(("approve", *args))

    def reject(self, *args: Any) -> None:
        self.calls.append(("reject", *args))


def invocation_with_metrics() -> InvocationView:
    """An invocation that printed one EMF blob, read as the real backend reads it, and a segment named as an attack."""
    emf = {
        "_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "Workshop", "Dimensions": [["service"]], "Metrics": [{"Name": "OrderCompensated", "Unit": "Count"}]}]},
        "service": "order-saga",
        "OrderCompensated": [1.0, 2.0],
    }
    metrics, problems = metric_rows("req-2", [json.dumps(emf)])
    spans = [SpanRow(depth=0, name=SCRIPT, duration_ms=12.5, annotations="order_id=o-1", error=False)]
    return InvocationView(2, "req-2", [], spans, metrics, problems)


class BrokenInvocation:
    """An invocation panel whose data breaks while the page is drawn (every attribute raises)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"cannot read {name} {SCRIPT}")


@dataclass
class Served:
    url: str
    backend: FakeBackend

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        return self._send(urllib.request.Request(self.url + path, headers=headers or {}))

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.url + path, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        return self._send(request)

    @staticmethod
    def _send(request: urllib.request.Request) -> tuple[int, str]:
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    backend = FakeBackend()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(backend, TOKEN), host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):  # started within 10 s, or the test fails below
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "the explorer did not start"
    try:
        yield Served(url, backend)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("path", ["/executions", "/execution?arn=arn:x", "/callbacks", "/executions?partial=live"])
def test_payloads_render_as_text(served: Served, path: str) -> None:
    status, html = served.get(path)
    assert status == 200
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert SCRIPT not in html


def test_an_unknown_execution_is_a_404_page_with_aws_message_escaped(served: Served) -> None:
    status, html = served.get("/execution?arn=arn:missing")
    assert status == 404 and "ResourceNotFoundException: no execution &lt;script&gt;" in html and "Traceback" not in html


def test_pages_forbid_inline_script(served: Served) -> None:
    request = urllib.request.Request(served.url + "/executions")
    with urllib.request.urlopen(request, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_a_post_without_the_token_is_refused(served: Served) -> None:
    served.backend.calls.clear()
    status, html = served.post("/callbacks/succeed", {"callback_id": "cb-1", "result": "{}"})
    assert status == 403 and "token" in html
    status, _ = served.post("/callbacks/succeed", {"callback_id": "cb-1", "result": "{}", "token": "guessed"})
    assert status == 403
    assert served.backend.calls == []


def test_a_post_from_another_origin_is_refused_even_with_the_token(served: Served) -> None:
    served.backend.calls.clear()
    status, html = served.post("/approvals/approve", {"request_id": "exp-1", "token": TOKEN}, {"Origin": "http://evil.example"})
    assert status == 403 and "another site" in html
    assert served.backend.calls == []


def test_a_rebinding_host_is_refused(served: Served) -> None:
    status, _ = served.get("/executions", {"Host": "evil.example:3002"})
    assert status == 421


def test_the_tokens_post_answers_and_redirects(served: Served) -> None:
    served.backend.calls.clear()
    origin = {"Origin": served.url}
    assert served.post("/callbacks/succeed", {"callback_id": "cb-1", "result": '{"ok": true}', "token": TOKEN}, origin)[0] == 303
    assert served.post("/callbacks/fail", {"callback_id": "cb-1", "error_type": "T", "error_message": "M", "token": TOKEN}, origin)[0] == 303
    assert served.post("/callbacks/heartbeat", {"callback_id": "cb-1", "token": TOKEN}, origin)[0] == 303
    assert served.post("/approvals/reject", {"request_id": "exp-1", "reason": "no", "token": TOKEN}, origin)[0] == 303
    assert served.backend.calls == [("succeed", "cb-1", '{"ok": true}'), ("fail", "cb-1", "T", "M"), ("heartbeat", "cb-1"), ("reject", "exp-1", "no")]


def test_invalid_json_is_refused_before_anything_is_sent(served: Served) -> None:
    served.backend.calls.clear()
    status, html = served.post("/callbacks/succeed", {"callback_id": "cb-1", "result": "{not json", "token": TOKEN}, {"Origin": served.url})
    assert status == 400 and "not valid JSON" in html
    assert served.backend.calls == []


def test_forms_carry_the_token(served: Served) -> None:
    _, html = served.get("/callbacks")
    assert html.count(f'name="token" value="{TOKEN}"') == 3  # succeed, fail, heartbeat of the one callback


def test_the_explorer_imports_neither_the_cli_nor_rich() -> None:
    code = "import sys, workshop.explorer.server; print([m for m in sys.modules if m.split('.')[0] == 'rich' or m.startswith(('workshop.cli', 'workshop.render'))])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_static_files_are_the_only_assets_and_fetch_nothing_remote() -> None:
    root = Path(__file__).resolve().parents[2] / "workshop" / "explorer"
    for path in [*root.glob("templates/*.html"), *root.glob("static/*")]:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, path


def test_labs_read_the_progress_file_make_progress_reads(tmp_path: Path) -> None:
    from workshop.config import StackConfig
    from workshop.explorer.backend import StackBackend
    from workshop.inspect import Services
    from workshop.labs.model import find_lab
    from workshop.labs.progress import record_run

    config = StackConfig(state_dir=tmp_path)
    lab = find_lab(1)
    record_run(config, 1, {stage.number: stage.number == 1 for stage in lab.stages})
    labs = StackBackend(Services(config=config)).labs()
    first = next(entry for entry in labs if entry["number"] == 1)
    assert [s["passed"] for s in first["stages"]] == [s.number == 1 for s in lab.stages]
    assert first["next"] == {"number": lab.stages[1].number, "title": lab.stages[1].title, "hint": lab.stages[1].hint}
    untouched = next(entry for entry in labs if entry["number"] == 2)
    assert untouched["when"] is None and untouched["next"] is None and all(s["passed"] is None for s in untouched["stages"])


def test_a_port_in_use_is_named_by_make_up_and_by_the_server(tmp_path: Path) -> None:
    import socket

    from workshop import stack
    from workshop.config import StackConfig
    from workshop.explorer.server import listen
    from workshop.stack import processes

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        config = StackConfig(state_dir=tmp_path, explorer_port=port)
        explorer = next(s for s in stack.SERVICES if s.name == "explorer")
        with pytest.raises(stack.StackError, match=rf"Port {port} \(explorer\) is already in use.*WORKSHOP_EXPLORER_PORT={port + 1}"):
            processes._start(config, explorer)
        with pytest.raises(SystemExit, match=rf"explorer: cannot listen on 127.0.0.1:{port}.*WORKSHOP_EXPLORER_PORT="):
            listen(config)


def test_a_page_that_cannot_be_drawn_is_the_error_page_not_a_bare_500(served: Served) -> None:
    """Seen once in CI: the invocation panel answered "Internal Server Error" (the template raised after the handler)."""
    status, html = served.get("/execution?arn=arn:x&inv=99")
    assert status == 500
    assert "The explorer could not draw this page: RuntimeError: cannot read" in html
    assert "&lt;script&gt;" in html and SCRIPT not in html and "Traceback" not in html


def test_an_invocation_that_printed_metrics_shows_them_in_its_panel(served: Served) -> None:
    """CI once drew "TypeError: 'builtin_function_or_method' object is not iterable" here: a dict row's `.values` in Jinja is the method."""
    status, html = served.get("/execution?arn=arn:x&inv=2")
    assert status == 200, html
    panel = html[html.index('id="panel-metrics"') :]
    assert "<td>Workshop</td><td>OrderCompensated</td><td>service=order-saga</td><td>1.0, 2.0</td><td>Count</td>" in panel
    assert "order_id=o-1" in html and "&lt;script&gt;" in html and SCRIPT not in html
