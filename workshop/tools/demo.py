"""`make demo`: the stack up, the order saga twice, and what replay looked like.

1. Brings the local stack up (harmless if it is already running).
2. Places an order the warehouse confirms: the happy path.
3. Places an order the warehouse rejects: the payment is refunded, then the
   stock released, in that order.
4. Prints both executions' timelines, where each invocation shows what ran for
   real, what was replayed from the checkpoint log, and the lines it logged,
   and says so if an execution's invocations are not the ones the README
   explains (workshop.tools.saga_shape): the simulated warehouse answers only
   once the saga is suspended on its callback, so they should always be.
5. Ends with the Durable Explorer's URL, where the same executions are a replay grid.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
import uuid
from typing import Any

from rich.console import Console
from rich.markup import escape

from workshop import stack
from workshop.config import StackConfig, boto3_client
from workshop.explorer import browser_url
from workshop.inspect import TERMINAL, Services
from workshop.paste import pasteable
from workshop.render.console import show_timeline
from workshop.tools import saga_shape

WAIT_LIMIT_S = 120.0

SCENARIOS = (
    ("happy path: the warehouse confirms", {"warehouse": "confirm"}, saga_shape.HAPPY),
    ("compensating path: the warehouse rejects", {"warehouse": "reject"}, saga_shape.COMPENSATING),
)


def place_order(lam: Any, simulate: dict[str, Any], execution_name: str | None = None, id_prefix: str = "demo") -> str:
    """Start the demo's order (asynchronously) and return its execution's ARN; `make screenshots` places it too."""
    order = {
        "order_id": f"{id_prefix}-{uuid.uuid4().hex[:8]}",
        "customer_id": "c-demo",
        "items": [{"sku": "SKU-BOOK", "quantity": 1}, {"sku": "SKU-MUG", "quantity": 2}],
        "amount": "42.50",
        "currency": "EUR",
        "simulate": simulate,
    }
    named = {"DurableExecutionName": execution_name} if execution_name else {}
    response = lam.invoke(FunctionName="order-saga:live", InvocationType="Event", Payload=json.dumps(order).encode(), **named)
    return response["DurableExecutionArn"]


def wait_until_done(lam: Any, arn: str, console: Console, label: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_LIMIT_S
    with console.status(f"[bold]{label}[/]: running…") as status:
        while True:
            detail = lam.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
            if detail["Status"] in TERMINAL:
                return detail
            if time.monotonic() > deadline:
                raise SystemExit(f"{label}: still {detail['Status']} after {WAIT_LIMIT_S:.0f} s; see `{pasteable(['workshop', 'timeline', arn])}`")
            events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
            status.update(f"[bold]{label}[/]: {len(events)} history events, last {events[-1]['EventType'] if events else '-'}")
            time.sleep(0.2)


def say_if_not_the_story(console: Console, services: Services, arn: str, story: tuple[saga_shape.Step, ...]) -> None:
    """A note when the invocations differ from the README's (they should not: see saga_shape)."""
    try:
        different = saga_shape.differences(saga_shape.read_shape(services, arn), story)
    except saga_shape.ShapeUnreadable as exc:
        different = [str(exc)]
    if different:
        console.print("[yellow]note:[/] not the invocations the README explains:")
        for line in different:
            console.print(f"  {escape(line)}", highlight=False)


def main() -> int:
    console = Console()
    config = StackConfig()
    console.rule("[bold]1. the local stack")
    try:
        stack.up(config, say=console.print)
    except stack.StackError as exc:
        console.print(f"[red]error:[/] {exc.code}")
        return 1
    lam = boto3_client("lambda", config)

    results = []
    for number, (label, simulate, story) in enumerate(SCENARIOS, start=2):
        console.rule(f"[bold]{number}. order saga, {label}")
        arn = place_order(lam, simulate)
        console.print(f"started [cyan]{arn}[/]")
        detail = wait_until_done(lam, arn, console, label)
        results.append((label, arn, detail))
        show_timeline(arn)
        say_if_not_the_story(console, Services(config=config), arn, story)

    console.rule("[bold]summary")
    ok = True
    for label, arn, detail in results:
        outcome = json.loads(detail["Result"]) if detail.get("Result") else detail.get("Error")
        console.print(f"{label}: [bold]{detail['Status']}[/] {json.dumps(outcome)}")
        ok &= detail["Status"] == "SUCCEEDED"
    console.print(
        "\nExplore: `.venv/bin/workshop list`, `.venv/bin/workshop timeline ARN`, `.venv/bin/workshop --help`.\n"
        + ("The stack keeps running; `make down` stops it." if config.mode != "compose"
           else "The containers keep running; `docker compose down` stops them.")
    )
    compensating = results[-1][1]
    console.print(
        f"\nThe Durable Explorer (replay grid, callbacks, labs): [bold]{browser_url(config)}[/]\n"
        f"  the compensating path's grid: {browser_url(config)}execution?{urllib.parse.urlencode({'arn': compensating})}",
        highlight=False,
        soft_wrap=True,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
