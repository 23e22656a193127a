"""`workshop metrics`: the CloudWatch metrics a function's EMF log lines would make, per invocation.

Registered into `workshop.cli.parser.build_parser` by ``register(commands)``; the data
comes from `workshop.inspect.metrics`, errors are reported by `workshop.cli.main`
(stack not running: exit 1 with the same message as the other commands).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from workshop.inspect import Services
from workshop.paste import pasteable
from workshop.render.tables import ReadableTable, readable
from workshop.inspect.metrics import (
    MetricSeries,
    MetricsReport,
    metrics_for_execution,
    metrics_for_function,
    metrics_for_functions,
)

MAX_LISTED = 6  # invocations named one by one in the "per invocation" column


def number(value: float) -> str:
    """1.0 → "1", 2.5 → "2.5"."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.10g}"


def _invocation_numbers(series: MetricSeries, report: MetricsReport) -> list[tuple[str, float]]:
    labels: list[tuple[str, float]] = []
    for request_id, value in series.sum_by_invocation().items():
        info = report.invocation(request_id)
        labels.append((f"#{info.number}" if info else "#?", value))
    return labels


def per_invocation_text(series: MetricSeries, report: MetricsReport) -> str:
    """E.g. "1 per invocation × 3 invocations: #1, #2, #3" or "1 in invocation #1 of 4".

    Over a whole log group it also says from how many executions the values came.
    """
    text = _per_invocation(series, report)
    if report.scope != "execution":
        arns = {info.execution_arn for rid in series.per_invocation if (info := report.invocation(rid)) and info.execution_arn}
        if arns:
            text += f" · {len(arns)} execution{'s' if len(arns) != 1 else ''}"
    return text


def _per_invocation(series: MetricSeries, report: MetricsReport) -> str:
    labels = _invocation_numbers(series, report)
    total = len(report.invocations)
    emitted = len(labels)
    of_total = f" of {total}" if total > emitted else ""
    distinct = {value for _, value in labels}
    if emitted == 1:
        label, value = labels[0]
        return f"{number(value)} in invocation {label}{of_total}"
    if len(distinct) == 1:
        text = f"{number(distinct.pop())} per invocation × {emitted}{of_total} invocations"
        if emitted <= MAX_LISTED:
            text += ": " + ", ".join(label for label, _ in labels)
        return text
    if emitted <= MAX_LISTED:
        return ", ".join(f"{label}: {number(value)}" for label, value in labels) + (f" ({emitted}{of_total} invocations)")
    return f"{emitted}{of_total} invocations, {number(min(distinct))}–{number(max(distinct))} each"


def metrics_table(report: MetricsReport) -> ReadableTable:
    what = f"execution {report.target}" if report.scope == "execution" else f"function {report.target}"
    table = Table(title=f"EMF metrics of {what}", title_justify="left", header_style="bold")
    # the metric first: on a terminal too narrow for the table, each row's first cell heads its block
    table.add_column("Metric", style="bold")
    table.add_column("Namespace")
    table.add_column("Dimensions")
    table.add_column("Unit")
    table.add_column("Sum", justify="right")
    table.add_column("Data points", justify="right")
    table.add_column("Per invocation")
    for series in report.series:
        table.add_row(
            series.name,
            series.namespace,
            series.dimensions_text(),
            series.unit,
            number(series.sum),
            str(series.data_points),
            per_invocation_text(series, report),
        )
    return readable(table)


def print_report(report: MetricsReport, out: Console, err: Console) -> None:
    total = len(report.invocations)
    if report.series:
        out.print(metrics_table(report))
    elif total:
        out.print(f"No EMF metrics in the {total} invocation(s) of {report.scope} {report.target}.", highlight=False, soft_wrap=True)
    if report.scope == "execution":
        if total:
            out.print(f"Invocations (numbered as in `{pasteable(['workshop', 'timeline', report.target])}`):", highlight=False, soft_wrap=True, markup=False)
        for info in report.invocations:
            if not info.has_logs:
                state = Text("no log lines found", style="yellow")
            elif info.emitted_nothing:
                state = Text("emitted nothing", style="dim")
            else:
                parts = [f"{info.records} EMF record(s)"] if info.records else []
                parts += [f"{info.problems} invalid EMF line(s)"] if info.problems else []
                state = Text(", ".join(parts), style="green" if not info.problems else "yellow")
            out.print(Text.assemble(f"  #{info.number} {info.request_id}  ", state), soft_wrap=True)
        silent = report.silent
        if silent and total:
            names = ", ".join(f"#{i.number}" for i in silent)
            out.print(f"Emitted nothing: {names} ({len(silent)} of {total} invocations).", highlight=False, soft_wrap=True)
    elif total:
        executions = {i.execution_arn for i in report.invocations if i.execution_arn}
        line = f"{total} invocation(s) read" + (f" ({len(executions)} durable execution(s))" if executions else "")
        out.print(f"{line}; {len(report.silent)} emitted no EMF.", highlight=False, soft_wrap=True)
    for problem in report.problems:
        info = report.invocation(problem.request_id)
        where = f"#{info.number} ({problem.request_id})" if info else (problem.request_id or "a line")
        err.print(Text(f"Invalid EMF in invocation {where}: {problem.reason}", style="yellow"), soft_wrap=True)
        err.print(Text(f"    {problem.text}", style="dim"), soft_wrap=True)
    for note in report.notes:
        err.print(Text(note, style="yellow"), soft_wrap=True)


def cmd_metrics(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    if args.execution:
        report = metrics_for_execution(services.config, args.execution, function=args.function, services=services)
    elif args.function:
        report = metrics_for_function(services.config, args.function, services=services)
    else:
        functions = sorted(services.registry().get("functions", {}))
        if not functions:
            out.print(f"No functions in {services.config.registry_path}.", highlight=False, soft_wrap=True)
            return 0
        report = metrics_for_functions(services.config, functions, services=services)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str, ensure_ascii=False))
        return 0
    if not report.invocations and not report.problems:
        out.print(f"No invocations found for {report.scope} {report.target}.", highlight=False, soft_wrap=True)
        for note in report.notes:
            err.print(Text(note, style="yellow"), soft_wrap=True)
        return 0
    print_report(report, out, err)
    return 0


def register(commands: Any) -> None:
    """Add `workshop metrics` to the CLI's subcommands."""
    parser = commands.add_parser(
        "metrics",
        help="the metrics a function's EMF log lines make, summed and per invocation",
        description=(
            "Read the CloudWatch embedded metric format (EMF) lines that Powertools Metrics prints, from "
            "CloudWatch Logs in the emulator (which does not turn them into metrics), and sum each "
            "metric per namespace, name and dimension values, showing what every invocation added: "
            "a metric added in replayed code appears once per invocation. Lines that claim to be EMF "
            "but are not valid are reported."
        ),
        epilog="Example: workshop metrics --execution ARN   (ARNs: workshop list)",
    )
    parser.add_argument("--execution", metavar="ARN", help="only the invocations of this durable execution (and which emitted nothing)")
    parser.add_argument("--function", metavar="NAME", help="a function's whole log group (default: every function in the registry)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=cmd_metrics)
