"""Tables that stay readable in an 80-column terminal (the macOS Terminal's default width).

Why a module of its own: Rich's own answer to a table wider than the terminal
is to squeeze every column and end the words that no longer fit with "…"
("invocat…", "## lambda_…"), so the column that carries the meaning is the one
cut. Every table the labs and the `workshop` command print goes through
``readable`` instead, which picks the first of three layouts that keeps every
word whole:

1. the table as built, when it fits at its natural width;
2. the same table with each column fixed between its longest word and its
   natural width (cells wrap between words, never inside one);
3. when even the longest words side by side are wider than the terminal: one
   block per row, each cell on a line of its own under the row's first cell,
   labelled with its column's header (a word longer than the whole line, an
   ARN say, is folded, never cut).

The width is the console's at render time, so nothing here needs to know the
terminal: print the returned renderable as any other.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


class ReadableTable:
    """A Rich table that wraps its cells between words, or becomes one block per row, rather than cut a word."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.table
        width = options.max_width
        unbounded = options.update_width(10**6)  # Measurement.get caps what it reports at the width it is given
        if Measurement.get(console, unbounded, table).maximum <= width:
            yield table
            return
        ranges = [table._measure_column(console, unbounded, column) for column in table.columns]
        fixed = fixed_widths([r.minimum for r in ranges], [r.maximum for r in ranges], width - table._extra_width)
        if fixed is None:
            yield from console.render(row_blocks(table), options)
            return
        narrowed = copy.copy(table)
        narrowed.columns = [
            # the widths measured include the cell padding; a column's width does not
            dataclasses.replace(column, width=w - table._get_padding_width(column._index), overflow="fold", no_wrap=False)
            for column, w in zip(table.columns, fixed, strict=True)
        ]
        yield narrowed


def fixed_widths(minimums: list[int], maximums: list[int], room: int) -> list[int] | None:
    """Each column's width within `room`: at least its minimum, the rest shared by what each could still use.

    None when the minimums alone do not fit. A column that cannot wrap
    (its minimum is its maximum) keeps its width.
    """
    if sum(minimums) > room:
        return None
    widths = list(minimums)
    spare = room - sum(widths)
    wants = [high - low for low, high in zip(minimums, maximums, strict=True)]
    total = sum(wants)
    if total == 0:
        return widths
    for index, want in enumerate(wants):
        widths[index] += min(want, spare * want // total)
    return widths


def row_blocks(table: Table) -> Group:
    """The table as one block per row: the first cell as the heading, the others labelled by their header."""
    parts: list[RenderableType] = []
    if table.title:
        parts.append(Text.from_markup(table.title, style="bold") if isinstance(table.title, str) else table.title)
    headers = [column.header for column in table.columns]
    cells = [list(column.cells) for column in table.columns]
    for index in range(table.row_count):
        row = [column_cells[index] for column_cells in cells]
        heading = Table.grid(padding=(0, 1))
        heading.add_column(style="bold", no_wrap=False, overflow="fold")
        heading.add_column(overflow="fold")
        heading.add_row(_plain(headers[0]), row[0])
        block = Table.grid(padding=(0, 1))
        block.add_column(width=1)
        block.add_column(style="dim", overflow="fold")
        block.add_column(overflow="fold", ratio=1)
        for header, cell in zip(headers[1:], row[1:], strict=True):
            block.add_row("", _plain(header), cell)
        parts += [heading, block]
    return Group(*parts)


def _plain(header: RenderableType) -> RenderableType:
    """A header as a cell: markup read, an empty header shown as a dash."""
    if isinstance(header, str):
        return Text.from_markup(header) if header else Text("-")
    return header


def readable(table: Table) -> ReadableTable:
    """`table`, to print: it never cuts a word to fit the terminal (see the module docstring)."""
    for column in table.columns:
        column.overflow = "fold"
    return ReadableTable(table)


def table_of(title: str, headers: Sequence[str], rows: Iterable[Sequence[RenderableType]], **options: Any) -> ReadableTable:
    """A readable table of plain columns: the labs' tables, each a title, its headers and its rows."""
    table = Table(title=title, **options)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    return readable(table)


__all__ = ["ReadableTable", "fixed_widths", "readable", "row_blocks", "table_of"]
