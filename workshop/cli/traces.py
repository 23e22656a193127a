"""`workshop traces`: the X-Ray segments of the stack's invocations, as trees grouped per execution.

Why this view: a durable execution is several invocations (the handler re-runs
after every suspension), and every invocation is its own X-Ray trace. The
Powertools page says "use the execution_arn to correlate traces"; this command
does that correlation and draws, for each invocation,

    trace → function segment (the Lambda service's, emitted by the function host)
          → `## lambda_handler` (capture_lambda_handler) and the other subsegments

with durations, annotations and faults, so a learner sees which business
functions ran in which invocation and which were replayed away.

Drawing and command here; the data (Span, TraceView, ExecutionGroup, the
sink's segments) comes from `workshop.inspect.traces`.

Registered into the `workshop` parser by `register()`; the handler follows
the CLI's convention (args, services, out, err) -> exit code and raises
`workshop.inspect.InspectError` for a message without a traceback.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.text import Text
from rich.tree import Tree

from workshop.inspect.traces import (
    FUNCTION_ORIGIN,
    ExecutionGroup,
    Span,
    TraceView,
    build_traces,
    fetch_segments,
    group_traces,
)
from workshop.render.text import clock, short, status_text
from workshop.stack.xray_sink import walk

if TYPE_CHECKING:
    from workshop.inspect import Services

DEFAULT_LIMIT = 20


# ----------------------------------------------------------------- drawing
def _ms(value: float | None) -> str:
    return "in progress" if value is None else f"{value:.1f} ms"


def _annotation_text(span: Span, group_arn: str | None) -> Text:
    text = Text()
    for key, value in span.annotations.items():
        if key == "durable_status":
            continue  # shown as the invocation's status
        if key == "execution_arn" and value == group_arn:
            text.append(f"  {key} ✓", style="green")
        else:
            text.append(f"  {key}={short(str(value), 80)}", style="green")
    return text


def _fault_text(span: Span) -> Text:
    doc = span.doc
    if not (doc.get("fault") or doc.get("error") or doc.get("throttle")):
        return Text()
    label = "fault" if doc.get("fault") else ("throttle" if doc.get("throttle") else "error")
    cause = doc.get("cause")
    exceptions = cause.get("exceptions") if isinstance(cause, dict) else None
    if exceptions:
        first = exceptions[0]
        label += f": {first.get('type', 'Error')}: {short(str(first.get('message', '')), 80)}"
    return Text(f"  {label}", style="bold red")


def span_label(span: Span, trace: TraceView, group_arn: str | None) -> Text:
    doc = span.doc
    text = Text()
    if doc.get("origin") == FUNCTION_ORIGIN:
        text.append(str(doc.get("name")), style="bold")
        text.append(f"  invocation {trace.number}" if trace.number else "  invocation", style="bold")
        text.append(f"  request {(doc.get('aws') or {}).get('request_id', '?')}", style="dim")
        text.append(f"  {_ms(span.duration_ms)}")
        text.append(f"  {clock(span.start)}", style="dim")
        status = span.annotations.get("durable_status")
        if status:
            text.append("  ")
            text.append_text(status_text(status))
    else:
        name = str(doc.get("name", "?"))
        text.append(name, style="bold magenta" if name.startswith("## ") else "cyan")
        operation = (doc.get("aws") or {}).get("operation")
        if operation:
            text.append(f" {operation}", style="cyan")
        text.append(f"  {_ms(span.duration_ms)}")
        if span.start and trace.start:
            text.append(f"  at +{(span.start - trace.start) * 1000:.1f} ms", style="dim")
    text.append_text(_annotation_text(span, group_arn))
    text.append_text(_fault_text(span))
    if span.orphan:
        text.append(f"  (parent {doc.get('parent_id')} not received)", style="yellow")
    return text


def _add(node: Tree, span: Span, trace: TraceView, group_arn: str | None) -> None:
    child = node.add(span_label(span, trace, group_arn))
    for grandchild in span.children:
        _add(child, grandchild, trace, group_arn)


def group_tree(group: ExecutionGroup) -> Tree:
    count = len(group.traces)
    if group.execution_arn:
        # The ARN on a line of its own: AWS's form is ~140 characters, and the counts must not wrap around it.
        label = Text("execution ", style="bold")
        label.append(f"{group.function or '?'} · {count} invocation{'s' * (count != 1)} shown")
        if group.recorded is not None:  # fewer: older ones beyond --limit, or segments that never arrived
            label.append(f", {group.recorded} recorded by the function host", style="dim" if group.recorded == count else "yellow")
        label.append("\n")
        label.append(group.execution_arn, style="bold cyan")
    else:
        label = Text(f"{group.function or 'unknown function'}", style="bold")
        label.append(f"  {count} invocation{'s' * (count != 1)} outside a durable execution", style="dim")
    tree = Tree(label)
    for trace in group.traces:
        node = tree.add(Text(f"trace {trace.trace_id}", style="dim"))
        for root in trace.roots:
            _add(node, root, trace, group.execution_arn)
    return tree


LEGEND = (
    "One trace per invocation: the SDK re-runs the handler after every suspension. "
    "Subsegments recorded on the durable SDK's worker thread (steps' capture_method, checkpoint calls) "
    "hang under the function segment, beside ## lambda_handler: X-Ray's context is per thread."
)


# ----------------------------------------------------------------- command
def register(commands: argparse._SubParsersAction) -> None:
    """Add `workshop traces` to the CLI's subcommands."""
    traces = commands.add_parser(
        "traces",
        help="the X-Ray segments of each invocation (Tracer), grouped per durable execution",
        description=(
            "Show what Powertools Tracer recorded: for each invocation the function's segment, its "
            "## lambda_handler subsegment and the capture_method / AWS call subsegments, with "
            "annotations, grouped per durable execution. Read from the stack's X-Ray sink."
        ),
    )
    traces.add_argument("--execution", metavar="ARN", help="only the invocations of this durable execution")
    traces.add_argument("--function", metavar="NAME", help="only invocations of this function")
    traces.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, metavar="N", help=f"without --execution: the N most recent traces (default {DEFAULT_LIMIT})"
    )
    traces.add_argument("--json", action="store_true", help="print the grouped traces as JSON instead of drawing them")
    traces.set_defaults(handler=cmd_traces)


def cmd_traces(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    from workshop.inspect import InspectError as CliError

    config = services.config
    notes: list[str] = []
    index: list[dict[str, Any]] = []
    function = args.function.split(":")[0] if args.function else None
    if args.execution:
        documents = fetch_segments(config, execution_arn=args.execution, function=function)
        try:
            index = [e for e in services.invocations(execution_arn=args.execution) if function in (None, e.get("function"))]
        except CliError as exc:
            notes.append(f"invocation index not read: {exc.message}")
        seen = {(walk_doc.get("aws") or {}).get("request_id") for d in documents for walk_doc in walk(d)}
        missing = [e["request_id"] for e in index if e.get("request_id") and e["request_id"] not in seen]
        if missing:  # invocations whose segments carry no execution annotation
            documents += fetch_segments(config, request_id=missing)
        traces = build_traces(documents)
    else:
        traces = build_traces(fetch_segments(config, function=function))
        traces = traces[-args.limit :] if args.limit > 0 else []
        # The index numbers each execution's invocations, also when older ones fell outside --limit.
        for arn in dict.fromkeys(t.execution_arn for t in traces if t.execution_arn):
            try:
                index += services.invocations(execution_arn=arn)
            except CliError as exc:
                notes.append(f"invocation index not read, invocations numbered as shown: {exc.message}")
                break
    groups = group_traces(traces, index)
    if args.json:
        print(json.dumps({"executions": [g.to_dict() for g in groups], "notes": notes}, indent=2, default=str, ensure_ascii=False))
        return 0
    for note in notes:
        err.print(f"[yellow]{note}[/]", highlight=False, soft_wrap=True)
    if not groups:
        if args.execution:
            hint = (
                f" The function host recorded {len(index)} invocation(s) of it: was Tracer disabled "
                "(POWERTOOLS_TRACE_DISABLED), or the sink down while it ran?"
                if index
                else " Is the ARN right? (workshop list)"
            )
            out.print(f"No traces of execution {args.execution}.{hint}", highlight=False, soft_wrap=True)
        else:
            out.print(
                "No traces yet. Run a traced function, e.g. workshop start order-saga:live --payload '{...}' --wait",
                highlight=False,
                soft_wrap=True,
            )
        return 0
    out.print(Group(*(group_tree(g) for g in groups)))
    if any(g.execution_arn for g in groups):
        out.print(LEGEND, style="dim", highlight=False)
    return 0
