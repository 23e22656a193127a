"""The Durable Explorer in a real browser (Chromium), on a private stack: what a learner sees and clicks.

- the saga's compensating path appears on the executions page and finishes there;
  its grid's cells agree with the durable history, read here independently of
  the Timeline (each invocation's own InvocationCompleted start and end);
- every cell and invocation heading of a finished saga opens its panel, the
  last invocation's with the EMF metrics it printed;
- a warehouse callback answered from the callbacks page (invalid JSON refused
  first) completes the execution; the `<script>` in its answer stays text;
- an expense approved from the page; no page carries the approval-wait signing
  token or any other secret value;
- a cross-site form and a POST without the token are refused, and change nothing.

One stack (live_stack) and one browser for the module; every wait is
Playwright's expect or a poll with a deadline.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.browser import browser_session, require_browser
from tests.integration.polling import finished, result_of, wait_for
from workshop.config import DUMMY_SECRET_ACCESS_KEY, StackConfig, boto3_client
from workshop.inspect import Services
from workshop.inspect.approvals import list_requests
from workshop.inspect.events import SERVICE_EVENTS, epoch_seconds

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.live

SCRIPT = "<script>window.pwned = 1</script>"
DEADLINE_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browser_session()


@pytest.fixture()
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    assert page.evaluate("window.pwned") is None and not dialogs, "a payload ran as script"
    context.close()


@pytest.fixture()
def lam(live_stack: StackConfig) -> Any:
    return boto3_client("lambda", live_stack)


def url(config: StackConfig, path: str, **query: str) -> str:
    return f"http://127.0.0.1:{config.explorer_port}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")


def order(**simulate: Any) -> dict[str, Any]:
    return {"order_id": f"o-{uuid.uuid4().hex[:10]}", "customer_id": "c-browser", "items": [{"sku": "SKU-BOOK", "quantity": 1}],
            "amount": "19.99", "currency": "EUR", "simulate": simulate}  # fmt: skip


def start(lam: Any, function: str, payload: dict[str, Any], name: str) -> str:
    response = lam.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode(), DurableExecutionName=name)
    return response["DurableExecutionArn"]


# ------------------------------------------------------------ history truth
def expected_cells(history: list[dict[str, Any]]) -> tuple[list[str], dict[str, list[set[str]]]]:
    """Request ids in order, and per operation name the states each invocation's cell may have.

    From the history alone: an operation event the SDK wrote (not the service)
    inside an invocation's [start, end] means it ran there; an invocation that
    started after the operation's last event replayed it; one that ended before
    its first event did not reach it.
    """
    invocations = [(e["InvocationCompletedDetails"]) for e in history if e["EventType"] == "InvocationCompleted"]
    spans = [(epoch_seconds(i["StartTimestamp"]), epoch_seconds(i["EndTimestamp"])) for i in invocations]
    ops: dict[str, list[dict[str, Any]]] = {}
    for event in history:
        if event.get("Id") and not event["EventType"].startswith(("Execution", "Invocation")):
            ops.setdefault(event["Name"], []).append(event)
    expected: dict[str, list[set[str]]] = {}
    for name, events in ops.items():
        times = [epoch_seconds(e["EventTimestamp"]) for e in events]
        own = [epoch_seconds(e["EventTimestamp"]) for e in events if e["EventType"] not in SERVICE_EVENTS]
        cells = []
        for start, end in spans:
            if any(start - 0.005 <= t <= end + 0.005 for t in own):
                cells.append({"ran", "suspended"})
            elif start > max(times):
                cells.append({"replayed"})
            elif end < min(times):
                cells.append({"not-reached"})
            else:
                cells.append({"replayed", "entered", "arrived", "not-reached"})
        expected[name] = cells
    return [i["RequestId"] for i in invocations], expected


# -------------------------------------------------------------------- tests
def test_compensating_saga_appears_finishes_and_its_grid_matches_the_history(page: Page, live_stack: StackConfig, lam: Any) -> None:
    page.goto(url(live_stack, "/executions"))
    name = f"browser-comp-{uuid.uuid4().hex[:8]}"
    arn = start(lam, "order-saga:live", order(warehouse="reject"), name)
    row = page.locator(f"tr[data-name='{name}']")
    expect(row).to_be_visible(timeout=DEADLINE_MS)  # appears without a reload
    expect(row.locator(".status")).to_have_text("SUCCEEDED", timeout=DEADLINE_MS)
    finished(lam, arn)
    expect(row.locator("td.num")).not_to_have_text("0")

    row.locator("a").click()
    expect(page.locator("#execution-status")).to_have_text("SUCCEEDED")
    expect(page.locator("#execution-result")).to_contain_text('"COMPENSATED"')
    expect(page.locator("#cli-timeline")).to_have_text(re.compile(r"^workshop timeline .*" + re.escape(arn.split("/")[-1])))

    history = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]
    request_ids, expected = expected_cells(history)
    headers = page.locator("#grid thead th.inv .rid")
    expect(headers).to_have_count(len(request_ids))
    assert [headers.nth(i).get_attribute("title") for i in range(len(request_ids))] == request_ids
    for op_name, cells in expected.items():
        states = page.locator(f"#grid tr[data-name='{op_name}'] td.cell").evaluate_all("cells => cells.map(c => c.dataset.state)")
        assert len(states) == len(cells), op_name
        for number, (state, allowed) in enumerate(zip(states, cells), start=1):
            assert state in allowed, f"{op_name} in invocation {number}: the grid says {state}, the history allows {allowed}"
    assert page.locator("#grid tr[data-name='release-inventory'] td.cell").last.get_attribute("data-state") == "ran"
    # the SDK's replay record (every worker loads the recorder) agrees with every cell it speaks of
    assert page.locator("#grid td.cell[data-confirmed='no']").count() == 0
    assert page.locator("#grid td.cell[data-confirmed='yes']").count() >= len(expected)

    # a cell: the operation's result and attempt; a column: its log lines
    page.locator("#grid tr[data-name='reserve-inventory'] td.cell").first.locator("a").click()
    expect(page.locator("#panel-result")).to_contain_text('"reserved": true')
    expect(page.locator("#panel-attempt")).to_have_text("1")
    page.locator("#grid thead th.inv").nth(2).locator("a").click()
    expect(page.locator("#panel h2")).to_contain_text("Invocation 3")
    expect(page.locator("#panel-logs")).to_be_visible()


def test_every_panel_of_a_finished_saga_draws_with_the_last_invocations_metrics(page: Page, live_stack: StackConfig, lam: Any) -> None:
    """Every cell and invocation heading of a compensating saga opens a panel, none the error page.

    The panel of an invocation that had printed EMF metrics once broke (a dict
    row's `.values` in Jinja is the dict's method), and CI only saw it when the
    one heading the test above clicks happened to be the last invocation.
    """
    name = f"browser-panels-{uuid.uuid4().hex[:8]}"
    arn = start(lam, "order-saga:live", order(warehouse="reject"), name)
    finished(lam, arn)
    history = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)["Events"]
    invocations = sum(1 for e in history if e["EventType"] == "InvocationCompleted")

    # The invocation that ended the execution flushed the outcome metrics. Its log lines
    # can land after the status does, so its panel is opened again until they have.
    last = url(live_stack, "/execution", arn=arn, inv=str(invocations))

    def metrics_drawn() -> bool:
        page.goto(last)
        assert page.get_by_role("alert").count() == 0, page.locator("main").inner_text()
        return page.locator("#panel-metrics").count() > 0

    wait_for(metrics_drawn, "the last invocation's EMF metrics in its panel", deadline_s=DEADLINE_MS / 1000, interval=1.0)
    expect(page.locator("#panel-metrics tr", has_text="OrderCompensated")).to_contain_text("Count")
    expect(page.locator("#panel-metrics tr", has_text="CompensationsRun")).to_contain_text("2")

    panels = page.locator("a[data-panel]").evaluate_all("links => links.map(a => a.href)")
    assert len(panels) > invocations, "the grid has no cells to open"
    for href in panels:
        response = page.request.get(href)
        assert response.status == 200, f"{href}: {response.status}"
        assert 'role="alert"' not in response.text(), f"{href} drew the error page"


def test_a_warehouse_callback_answered_from_the_page_completes_the_execution(page: Page, live_stack: StackConfig, lam: Any) -> None:
    name = f"browser-manual-{uuid.uuid4().hex[:8]}"
    arn = start(lam, "order-saga:live", order(warehouse="manual"), name)
    page.goto(url(live_stack, "/callbacks"))
    row = page.locator(f"tr[data-execution='{name}']")
    expect(row).to_be_visible(timeout=DEADLINE_MS)

    editor, succeed = row.locator("form.succeed textarea"), row.locator("form.succeed button")
    editor.fill('{"shipment_id": ')
    expect(succeed).to_be_disabled()
    expect(row.locator(".json-error")).to_contain_text("Not valid JSON")
    editor.fill(json.dumps({"shipment_id": SCRIPT}))
    expect(succeed).to_be_enabled()
    succeed.click()
    expect(page.locator("#done")).to_contain_text("Sent success")

    result = result_of(finished(lam, arn))
    assert result["status"] == "COMPLETED" and result["shipment_id"] == SCRIPT
    page.goto(url(live_stack, "/execution", arn=arn))
    expect(page.locator("#execution-result")).to_contain_text(SCRIPT)  # shown as text
    assert page.locator("script").count() == 1  # the explorer's own, nothing from the payload


def test_an_expense_approved_from_the_page_and_no_page_shows_a_secret(page: Page, live_stack: StackConfig, lam: Any) -> None:
    request_id = f"exp-{uuid.uuid4().hex[:10]}"
    payload = {"request_id": request_id, "employee": "ana", "amount": "2500.00", "currency": "EUR", "description": SCRIPT}
    arn = start(lam, "approval-wait:live", payload, f"browser-expense-{request_id}")
    page.goto(url(live_stack, "/callbacks"))
    row = page.locator(f"tr[data-request='{request_id}']")
    expect(row).to_be_visible(timeout=DEADLINE_MS)
    expect(row).to_contain_text(SCRIPT)
    row.locator("form.approve input[name=approver]").fill("bo")
    row.locator("form.approve button").click()
    expect(page.locator("#done")).to_contain_text(f"Approved request {request_id}")
    result = result_of(finished(lam, arn))
    assert result["status"] == "APPROVED" and result["approver"] == "bo"

    secrets_manager = boto3_client("secretsmanager", live_stack)
    secrets = [DUMMY_SECRET_ACCESS_KEY]
    for entry in secrets_manager.list_secrets()["SecretList"]:
        secrets.append(secrets_manager.get_secret_value(SecretId=entry["ARN"])["SecretString"])
    assert len(secrets) > 1, "the approval-wait signing token should be among the secrets"
    pages = [url(live_stack, p) for p in ("/executions", "/callbacks", "/labs")]
    pages += [url(live_stack, "/execution", arn=arn)] + [url(live_stack, "/execution", arn=arn, inv=str(n)) for n in range(1, 4)]
    for address in pages:
        page.goto(address)
        html = page.content()
        for secret in secrets:
            assert secret not in html, f"a secret value is on {address}"


def test_forged_posts_are_refused_and_change_nothing(page: Page, live_stack: StackConfig, lam: Any) -> None:
    request_id = f"exp-{uuid.uuid4().hex[:10]}"
    payload = {"request_id": request_id, "employee": "eve", "amount": "3000.00", "currency": "EUR", "description": "forged"}
    arn = start(lam, "approval-wait:live", payload, f"browser-forged-{request_id}")
    services = Services(config=live_stack)
    wait_for(lambda: any(r["request_id"] == request_id for r in list_requests(services)), "the request to be recorded")

    # another site's page with a form that posts to the explorer: the browser sends its Origin, and no token
    target = url(live_stack, "/approvals/approve")
    form = f'<form method="post" action="{target}"><input name="request_id" value="{request_id}"></form>'
    page.route("http://evil.test/", lambda route: route.fulfill(content_type="text/html", body=f"<html><body>{form}</body></html>"))
    page.goto("http://evil.test/")
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")
    expect(page.locator(".message")).to_contain_text("Refused")

    # with the right Origin but no token (or a wrong one), as a script on this machine might
    reply = page.request.post(target, form={"request_id": request_id}, headers={"Origin": url(live_stack, "")})
    assert reply.status == 403
    reply = page.request.post(target, form={"request_id": request_id, "token": "guess"}, headers={"Origin": url(live_stack, "")})
    assert reply.status == 403

    assert any(r["request_id"] == request_id and r["status"] == "PENDING" for r in list_requests(services))
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
