"""Every table the labs and the `workshop` command print reads whole at 80 columns (the macOS Terminal's default).

Each table is built by the function its lab or command builds it with, from
representative data, and printed on an 80-column console. A word of a cell or
of a header that comes out cut ("invocat…") or folded ("lambda_handl" / "er")
is reported with the whole output; so is a line wider than 80 characters.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from workshop.cli.approvals import requests_table
from workshop.cli.metrics import metrics_table
from workshop.cli.stacks import stacks_table
from workshop.cli.tables import callbacks_table, execution_panel
from workshop.config import REPO_ROOT
from workshop.deploy import StackSummary
from workshop.inspect.metrics import InvocationMetrics, MetricSeries, MetricsReport
from workshop.labs.checks import CheckRun, StageResult
from workshop.labs.commands import progress_table
from workshop.labs.model import all_labs
from workshop.labs.progress import LabProgress, StageProgress
from workshop.render.tables import ReadableTable, fixed_widths, readable, table_of

WIDTH = 80
# a word longer than this may have to be folded to fit at all (an ARN, a path): it must come out
# whole once the lines are joined, not as one piece
FOLDABLE = 40
ARN = "arn:aws:lambda:us-east-1:000000000000:function:order-saga:$LATEST/durable-execution/lab2-order/8f3c2a8e-5b7d-4e0c-9a51-2f6d0c1b7e44"


def _lab(number: int) -> ModuleType:
    path = next(REPO_ROOT.glob(f"workshop/lab-{number}-*/lab.py"))
    spec = importlib.util.spec_from_file_location(f"lab_{number}_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(renderable: RenderableType, width: int = WIDTH) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, force_terminal=False, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _plain(cell: Any) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return ""


def table_words(table: Table) -> list[str]:
    """Every word of the title, the headers and the cells: what the reader must be able to read."""
    texts = [_plain(table.title)] + [_plain(c.header) for c in table.columns]
    texts += [_plain(cell) for column in table.columns for cell in column.cells]
    return [word for text in texts for word in text.split()]


def _without_boxes(text: str) -> str:
    """The output with Rich's box drawing (U+2500 to U+257F) made spaces."""
    return "".join(" " if "\u2500" <= ch <= "\u257f" else ch for ch in text)


def unreadable(output: str, words: list[str], width: int = WIDTH) -> list[str]:
    """What is wrong with `output` at `width`: wide lines, an ellipsis, words not whole."""
    problems = [f"line of {cell_len(line)} > {width}: {line!r}" for line in output.splitlines() if cell_len(line) > width]
    if "…" in output and not any("…" in word for word in words):
        problems.append("an ellipsis: a cell was cut")
    seen = set(_without_boxes(output).split())
    joined = "".join(_without_boxes(output).split())
    for word in dict.fromkeys(words):
        whole = word in joined if len(word) > FOLDABLE else word in seen
        if not whole:
            problems.append(f"{word!r} is not whole")
    return problems


def assert_readable(renderable: ReadableTable) -> None:
    output = render(renderable)
    problems = unreadable(output, table_words(renderable.table))
    assert not problems, "\n".join(problems) + "\n" + output


def _emf(namespace: str, names: list[str], **dimensions: str) -> dict[str, Any]:
    return {
        "_aws": {"CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [list(dimensions)], "Metrics": [{"Name": n, "Unit": "Count"} for n in names]}]},
        **dimensions,
        **{name: 1 for name in names},
    }


def _checks(lab: Any) -> CheckRun:
    stages = {s.number: StageResult(s.number, passed=s.number == 1) for s in lab.stages}
    return CheckRun("learner", stages, 12.3, "")


def _progress() -> list[LabProgress]:
    return [
        LabProgress(lab.number, lab.title, lab.path.name, tuple(StageProgress(s.number, s.title, s.number == 1, s.number == 1) for s in lab.stages), "2026-12-07 09:41", 2)
        for lab in all_labs()
    ]


def _metrics() -> MetricsReport:
    series = [
        MetricSeries("Workshop", "OrderPlaced", (("service", "order-saga"),), ["Count"], {"r-1": [1.0]}),
        MetricSeries("Workshop", "PaymentRetried", (("service", "order-saga"), ("environment", "workshop")), ["Count"], {"r-1": [1.0], "r-2": [1.0]}),
        MetricSeries("Workshop", "OrderCompleted", (("service", "order-saga"),), ["Count"], {"r-3": [1.0]}),
    ]
    invocations = [InvocationMetrics(n, f"r-{n}", records=1) for n in (1, 2, 3)]
    return MetricsReport("execution", ARN, invocations, series, [])


TABLES: dict[str, Callable[[], ReadableTable]] = {
    "lab 1 log lines": lambda: _lab(1).signal_table([
        [{"message": "Order received"}, {"message": "reserving"}],
        [{"message": "Order received"}, {"message": "Order finished"}, {"message": "charged"}],
    ]),  # fmt: skip
    "lab 2 traces": lambda: _lab(2).signal_table([
        ["1", "PENDING", "[red]fault: SuspendExecution[/]", "—", "1", "inventory.reserve_items, payment.charge", "4"],
        ["2", "PENDING", "[green]ok[/]", "[green]✓[/]", "—", "payment.charge", "2"],
        ["3", "SUCCEEDED", "[green]ok[/]", "[green]✓[/]", "—", "payment.charge, fulfilment.hand_over", "3"],
    ], "screen_order"),  # fmt: skip
    "lab 3 metrics": lambda: _lab(3).signal_table([
        [_emf("Workshop", ["OrderPlaced"], service="order-saga")],
        [_emf("Workshop", ["PaymentRetried", "OrderCompleted"], service="order-saga", environment="workshop")],
    ]),  # fmt: skip
    "lab 4 ledger": lambda: _lab(4).signal_table([f"lab4-1a2b3c4d-{n:05d}" for n in (1, 2, 3)], ["1", "1", "-"], ["1", "2", "-"]),
    "lab 5 batch": lambda: _lab(5).signal_table([
        ["msg-1", "valid", "no", "1 (amount 12.50)", "-"],
        ["msg-2", "zero amount", "no", "-", "amount: Input should be greater than 0"],
        ["msg-4", "missing amount", "no", "-", "amount: Field required"],
        ["msg-5", "not json", "yes", "-", "Invalid JSON: expected value at line 1 column 1"],
    ]),  # fmt: skip
    "lab 6 token": lambda: _lab(6).signal_table(
        {
            "execution history (step results, callbacks, input, result)": "…",
            "log lines": "token=s3cr3t",
            "metrics (EMF records)": "",
            "X-Ray segments": "",
        },
        "s3cr3t",
    ),
    "progress": lambda: progress_table(_progress()),
    "workshop metrics": lambda: metrics_table(_metrics()),
    "workshop approvals": lambda: requests_table(
        [
            {"request_id": "req-7f3a9c", "status": "ESCALATED", "stage": "director", "employee": "Ada Lovelace",
             "amount": "12500.00", "currency": "EUR", "description": "Conference travel for the whole platform team", "created_at": None},
            {"request_id": "req-0b12de", "status": "PENDING", "stage": "manager", "employee": "Grace Hopper",
             "amount": "80.00", "currency": "EUR", "description": "Books", "created_at": None},
        ],
        "Approval requests waiting for an answer",
    ),  # fmt: skip
    "workshop callback pending": lambda: callbacks_table(
        [{"execution": "approval-2026-12-07-req-7f3a9c", "operation": "wait_for_callback manager-approval", "since": 1765100000.0}]
    ),
    "workshop stacks": lambda: stacks_table([
        StackSummary("workshop", "infra/template.yaml", ["order-saga", "approval-wait", "ingest", "lab-1-logger", "lab-2-tracer"], 1, None),
        StackSummary("my-requests", "/Users/ada/src/my-requests/template.yaml", [], 0, "the template is gone: /Users/ada/src/my-requests/template.yaml"),
    ]),  # fmt: skip
}


@pytest.mark.parametrize("name", TABLES)
def test_each_table_reads_whole_at_80_columns(name: str) -> None:
    assert_readable(TABLES[name]())


def test_the_execution_panel_folds_an_arn_instead_of_cutting_it() -> None:
    detail = {"DurableExecutionName": "lab2-order", "Status": "SUCCEEDED", "DurableExecutionArn": ARN,
              "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:order-saga", "InputPayload": '{"order_id": "lab2-order"}'}  # fmt: skip
    output = render(execution_panel(detail))
    assert not unreadable(output, [ARN, "lab2-order", "SUCCEEDED"]), output


def test_the_check_sees_what_rich_does_to_a_plain_table_at_80_columns() -> None:
    """Lab 2's table as it was printed before (a plain Rich table): the check reports its cut words."""
    table = Table(title="what X-Ray recorded")
    for header in ("invocation", "returned", "## lambda_handler", "execution_arn on it", "## *.screen_order", "the saga's business calls", "checkpoint calls"):
        table.add_column(header)
    table.add_row("1", "PENDING", "fault: SuspendExecution", "—", "1", "inventory.reserve_items", "4")
    problems = unreadable(render(table), table_words(table))
    assert "'invocation' is not whole" in problems
    assert "an ellipsis: a cell was cut" in problems


def test_a_table_that_fits_is_printed_as_built() -> None:
    readable_table = table_of("small", ["a", "b"], [["1", "2"]])
    assert render(readable_table) == render(readable_table.table)


def test_a_table_whose_words_fit_side_by_side_wraps_between_words() -> None:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
    table = table_of("six columns", ["one", "two", "three"], [[" ".join(words * 2)] * 3])
    output = render(table, width=60)
    assert "┃ one" in output  # still a table: the words fit
    assert not unreadable(output, table_words(table.table), width=60), output


def test_a_table_too_wide_for_its_longest_words_becomes_one_block_per_row() -> None:
    table = table_of("wide", ["invocation", "returned", "## lambda_handler", "checkpoint calls"], [["1", "SUCCEEDED", "fault: SuspendExecution", "3"]])
    output = render(table, width=40)
    assert "┃" not in output
    assert not unreadable(output, table_words(table.table), width=40), output


def test_fixed_widths_keep_every_minimum_and_share_the_rest() -> None:
    assert fixed_widths([5, 10], [5, 40], 30) == [5, 25]
    assert fixed_widths([5, 10], [15, 30], 25) == [8, 16]
    assert fixed_widths([5, 10], [15, 30], 14) is None


def test_readable_folds_instead_of_cutting() -> None:
    table = Table()
    table.add_column("x", overflow="ellipsis")
    assert readable(table).table.columns[0].overflow == "fold"


def test_the_labs_tables_are_all_checked() -> None:
    """A lab added to the manifest gets its signal table into TABLES."""
    labs = {f"lab {lab.number}" for lab in all_labs() if hasattr(lab.module, "signal_table")}
    checked = {" ".join(name.split()[:2]) for name in TABLES if not name.endswith("stages")}
    assert labs <= checked

