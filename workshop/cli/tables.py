"""Rich output of the other `workshop` views: the executions table, one execution, the waiting callbacks.

Why a module of its own: the command handlers (workshop.cli.executions) only
fetch and print; what a table looks like lives here, no AWS calls, data in
and renderables out.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from workshop.inspect.events import epoch_seconds
from workshop.render.tables import ReadableTable, readable
from workshop.render.text import clock, seconds, status_text


def pretty_json(text: str | None) -> str:
    """A JSON string indented for reading; other text unchanged."""
    if text is None:
        return "-"
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


# ---------------------------------------------------------------- other views
def executions_table(rows: list[dict[str, Any]], show_function: bool, width: int | None = None) -> Table | Group:
    """A table of executions; ARNs are never wrapped (they are copied into other commands).

    When the console is too narrow for whole ARNs in a table, each execution
    gets two lines instead: name, status, start, function, then the ARN.
    """
    cells = [
        (
            row.get("_function", "-"),
            row.get("DurableExecutionName") or "-",
            row.get("Status") or "?",
            clock(epoch_seconds(row.get("StartTimestamp")), with_date=True),
            row.get("DurableExecutionArn") or "-",
        )
        for row in rows
    ]
    columns = [0, 1, 2, 3, 4] if show_function else [1, 2, 3, 4]
    headers = ["Function", "Name", "Status", "Started", "ARN"]
    needed = sum(max(len(headers[c]), *(len(r[c]) for r in cells)) + 3 for c in columns) + 1
    if width is not None and needed > width:
        lines: list[Text] = [Text("Durable executions", style="bold")]
        for function, name, status, started, arn in cells:
            line = Text()
            line.append(name, style="bold")
            line.append("  ")
            line.append_text(status_text(status))
            line.append(f"  {started}")
            if show_function:
                line.append(f"  {function}", style="magenta")
            lines.append(line)
            lines.append(Text(f"  {arn}", style="dim"))
        return Group(*lines)
    table = Table(title="Durable executions", title_justify="left", header_style="bold")
    for c in columns:
        table.add_column(headers[c], no_wrap=True, style="magenta" if c == 0 else None)
    for row in cells:
        table.add_row(*[status_text(row[c]) if c == 2 else row[c] for c in columns])
    return table


def execution_panel(detail: dict[str, Any]) -> Panel:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    started = epoch_seconds(detail.get("StartTimestamp"))
    ended = epoch_seconds(detail.get("EndTimestamp"))
    table.add_row("Name", detail.get("DurableExecutionName") or "-")
    table.add_row("Status", status_text(detail.get("Status")))
    table.add_row("ARN", detail.get("DurableExecutionArn") or "-")
    table.add_row("Function", detail.get("FunctionArn") or "-")
    if detail.get("Version"):
        table.add_row("Version", detail["Version"])
    table.add_row("Started", clock(started, with_date=True) + (f".{int((started % 1) * 1000):03d}" if started else ""))
    if ended is not None:
        table.add_row("Ended", clock(ended, with_date=True) + f".{int((ended % 1) * 1000):03d}")
        if started is not None:
            table.add_row("Took", seconds(ended - started))
    table.add_row("Input", pretty_json(detail.get("InputPayload")))
    if detail.get("Result") is not None:
        table.add_row("Result", Text(pretty_json(detail["Result"]), style="green"))
    if detail.get("Error"):
        error = detail["Error"]
        table.add_row("Error", Text(": ".join(p for p in (error.get("ErrorType"), error.get("ErrorMessage")) if p), style="red"))
    return Panel(table, title="durable execution", title_align="left", border_style="dim")


def callbacks_table(rows: list[dict[str, Any]]) -> ReadableTable:
    """The waiting callbacks; their ids are printed below the table, unwrapped, to copy."""
    table = Table(title="Callbacks waiting for an answer", title_justify="left", header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Execution", no_wrap=True)
    table.add_column("Operation", style="magenta")
    table.add_column("Waiting since", no_wrap=True)
    for number, row in enumerate(rows, start=1):
        table.add_row(str(number), row["execution"], row["operation"], clock(row["since"]))
    return readable(table)
