"""`workshop approvals`, `workshop approve ID`, `workshop reject ID --reason ...`: the approver's side.

The approval-wait function (services/approval_wait) records every request it
waits on in its approvals table: request id, the callback it waits on *now*
(it changes when the request escalates), status, amount, ... These commands
read that table and answer the request's current callback through the Lambda
API, exactly as an approver's tool would on AWS: the reading and the calls are
workshop.inspect.approvals (shared with the explorer's Approve / Reject).
Registered into `workshop.cli.parser.build_parser` by ``register(commands)``; errors
(unknown id, stack not running, a callback that no longer waits) are reported
by `workshop.cli.main`: a message and exit 1, no traceback.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from workshop.inspect import Services
from workshop.paste import pasteable
from workshop.render.tables import ReadableTable, readable
from workshop.inspect.approvals import WAITING, approve, list_requests, reject


def _age(created_at: str | None) -> str:
    if not created_at:
        return "?"
    try:
        seconds = (datetime.now(UTC) - datetime.fromisoformat(created_at)).total_seconds()
    except ValueError:
        return created_at
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{max(seconds, 0):.0f} s"


def requests_table(rows: list[dict[str, Any]], title: str) -> ReadableTable:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("Request", style="bold", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Asking", no_wrap=True)
    table.add_column("Employee")
    table.add_column("Amount", justify="right", no_wrap=True)
    table.add_column("Description")
    table.add_column("Waiting", justify="right", no_wrap=True)
    colours = {"PENDING": "yellow", "ESCALATED": "red", "APPROVED": "green", "REJECTED": "magenta"}
    for row in rows:
        status = row.get("status", "?")
        table.add_row(
            row.get("request_id", "?"),
            f"[{colours.get(status, 'white')}]{status}[/]",
            row.get("stage", "?"),
            row.get("employee", ""),
            f"{row.get('amount', '?')} {row.get('currency', '')}".strip(),
            row.get("description", ""),
            _age(row.get("created_at")) if status in WAITING else "-",
        )
    return readable(table)


def cmd_approvals(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    rows = list_requests(services, include_decided=args.all)
    if not rows:
        out.print("No approval request is waiting for an answer." if not args.all else "No approval request recorded.", highlight=False)
        return 0
    out.print(requests_table(rows, "Approval requests" if args.all else "Approval requests waiting for an answer"))
    waiting = [row for row in rows if row.get("status") in WAITING]
    if waiting:
        first = waiting[0]["request_id"]
        answers = f"{pasteable(['workshop', 'approve', first])} · {pasteable(['workshop', 'reject', first, '--reason', '...'])}"
        out.print(f"Answer one: {answers}", style="dim", highlight=False, soft_wrap=True, markup=False)
        out.print("Keep one from escalating for lack of a heartbeat: workshop callback heartbeat CALLBACK_ID", style="dim", highlight=False, soft_wrap=True)
        for row in waiting:
            out.print(f"  {row['request_id']}  callback {row.get('callback_id', '?')}", highlight=False, soft_wrap=True)
    return 0


def cmd_approve(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    request = approve(services, args.request_id, args.approver, args.comment)
    out.print(f"[green]approved[/] {args.request_id} ({request.get('amount')} {request.get('currency')}, asked: {request.get('stage')})", highlight=False, soft_wrap=True)
    return 0


def cmd_reject(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    reject(services, args.request_id, args.reason)
    out.print(f"[red]rejected[/] {args.request_id}: {args.reason}", highlight=False, soft_wrap=True)
    return 0


def _default_approver() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "workshop-cli"


def register(commands: Any) -> None:
    """Add `approvals`, `approve` and `reject` to the `workshop` subcommands."""
    approvals = commands.add_parser(
        "approvals",
        help="expense approval requests waiting for an answer (approval-wait)",
        description="List the approval-wait function's requests that wait for a person: from its approvals table.",
    )
    approvals.add_argument("--all", action="store_true", help="also the requests already decided")
    approvals.set_defaults(handler=cmd_approvals)

    approve = commands.add_parser(
        "approve",
        help="approve a waiting expense request",
        description="Approve a request: sends callback success to the callback it waits on now (approver or escalation).",
    )
    approve.add_argument("request_id", metavar="ID", help="the request id (see `workshop approvals`)")
    approve.add_argument("--approver", default=_default_approver(), metavar="NAME", help="who approves (default: your user name)")
    approve.add_argument("--comment", metavar="TEXT", help="a comment the result carries")
    approve.set_defaults(handler=cmd_approve)

    reject = commands.add_parser(
        "reject",
        help="reject a waiting expense request",
        description="Reject a request: sends callback failure (ExpenseRejected) to the callback it waits on now.",
    )
    reject.add_argument("request_id", metavar="ID", help="the request id (see `workshop approvals`)")
    reject.add_argument("--reason", required=True, metavar="TEXT", help="why: the result's detail")
    reject.set_defaults(handler=cmd_reject)
