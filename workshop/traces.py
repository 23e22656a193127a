"""`workshop traces`: the X-Ray segments of the stack's invocations, as trees grouped per execution.

Why this view: a durable execution is several invocations (the handler re-runs
after every suspension), and every invocation is its own X-Ray trace. The
Powertools page says "use the execution_arn to correlate traces"; this command
does that correlation and draws, for each invocation,

    trace → function segment (the Lambda service's, emitted by the function host)
          → `## lambda_handler` (capture_lambda_handler) and the other subsegments

with durations, annotations and faults, so a learner sees which business
functions ran in which invocation and which were replayed away.

Data: the X-Ray sink (GET /segments, workshop.stack.xray_sink) and, with
--execution, the function host's invocation index (GET
/_workshop/invocations), which knows every invocation of an execution even
when its segment carries no annotation or never arrived.

Registered into the `workshop` parser by `register()`; the handler follows
the CLI's convention (args, services, out, err) -> exit code and raises
`workshop.inspect.InspectError` for a message without a traceback.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.text import Text
from rich.tree import Tree

from workshop.config import StackConfig
from workshop.render import clock, short, status_text
from workshop.stack.xray_sink import latest_per_id, walk

if TYPE_CHECKING:
    from workshop.inspect import Services

FUNCTION_ORIGIN = "AWS::Lambda::Function"
DEFAULT_LIMIT = 20


@dataclass
class Span:
    """One segment or subsegment document (nested subsegments taken out) and its children."""

    doc: dict[str, Any]
    children: list[Span] = field(default_factory=list)
    orphan: bool = False  # its parent_id names a document the sink never received

    @property
    def start(self) -> float:
        return float(self.doc.get("start_time") or 0.0)

    @property
    def duration_ms(self) -> float | None:
        end = self.doc.get("end_time")
        return None if end is None or self.doc.get("in_progress") else (float(end) - self.start) * 1000

    @property
    def annotations(self) -> dict[str, Any]:
        return self.doc.get("annotations") or {}

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        return {**self.doc, "orphan": self.orphan, "children": [child.to_dict() for child in self.children]}


@dataclass
class TraceView:
    """One trace: with the function host's segment, one invocation."""

    trace_id: str
    roots: list[Span]
    number: int | None = None  # the invocation's place in its execution, 1-based

    @property
    def function_segment(self) -> Span | None:
        return next((r for r in self.roots if r.doc.get("origin") == FUNCTION_ORIGIN), None)

    @property
    def start(self) -> float:
        return min((r.start for r in self.roots), default=0.0)

    @property
    def request_id(self) -> str | None:
        segment = self.function_segment
        return (segment.doc.get("aws") or {}).get("request_id") if segment else None

    @property
    def function(self) -> str | None:
        segment = self.function_segment
        return segment.doc.get("name") if segment else None

    @property
    def execution_arn(self) -> str | None:
        """From the annotation on any entity (function segment first, then `## handler`)."""
        for root in self.roots:
            for span in root.walk():
                arn = span.annotations.get("execution_arn")
                if isinstance(arn, str) and arn:
                    return arn
        return None

    def to_dict(self) -> dict[str, Any]:
        segment = self.function_segment
        return {
            "trace_id": self.trace_id,
            "invocation": self.number,
            "function": self.function,
            "request_id": self.request_id,
            "start_time": self.start,
            "duration_ms": segment.duration_ms if segment else None,
            "durable_status": segment.annotations.get("durable_status") if segment else None,
            "segments": [root.to_dict() for root in self.roots],
        }


@dataclass
class ExecutionGroup:
    """The traces of one durable execution, or of one function's invocations outside any."""

    execution_arn: str | None
    function: str | None
    traces: list[TraceView]
    recorded: int | None = None  # invocations the function host's index knows of (with --execution)

    def to_dict(self) -> dict[str, Any]:
        return {
            "execution_arn": self.execution_arn,
            "function": self.function,
            "invocations_recorded": self.recorded,
            "traces": [trace.to_dict() for trace in self.traces],
        }


# ----------------------------------------------------------------- assembling
def build_traces(documents: list[dict[str, Any]]) -> list[TraceView]:
    """Trees per trace from the sink's documents, oldest trace first.

    Nested subsegments become documents of their own (their parent is the
    document they were nested in), then the latest document per id wins, so
    an `in_progress` entity that was later completed appears once.
    """
    flat: list[dict[str, Any]] = []
    for document in documents:
        for entity in _flatten(document, document.get("trace_id"), document.get("parent_id")):
            if isinstance(entity.get("id"), str) and isinstance(entity.get("trace_id"), str):
                flat.append(entity)
    by_trace: dict[str, list[Span]] = {}
    for doc in latest_per_id(flat):
        by_trace.setdefault(doc["trace_id"], []).append(Span(doc))
    traces = []
    for trace_id, spans in by_trace.items():
        by_id = {span.doc["id"]: span for span in spans}
        roots = []
        for span in spans:
            parent = by_id.get(span.doc.get("parent_id") or "")
            if parent is not None and parent is not span:
                parent.children.append(span)
            else:
                span.orphan = bool(span.doc.get("parent_id"))
                roots.append(span)
        for span in spans:
            span.children.sort(key=lambda s: s.start)
        roots.sort(key=lambda s: (s.doc.get("origin") != FUNCTION_ORIGIN, s.start))
        traces.append(TraceView(trace_id, roots))
    return sorted(traces, key=lambda t: t.start)


def _flatten(document: dict[str, Any], trace_id: Any, parent_id: Any) -> list[dict[str, Any]]:
    entity = {k: v for k, v in document.items() if k != "subsegments"}
    entity.setdefault("trace_id", trace_id)
    if parent_id and "parent_id" not in entity:
        entity["parent_id"] = parent_id
    out = [entity]
    for child in document.get("subsegments") or ():
        if isinstance(child, dict):
            out.extend(_flatten(child, entity.get("trace_id"), entity.get("id")))
    return out


def group_traces(traces: list[TraceView], index: list[dict[str, Any]] | None = None) -> list[ExecutionGroup]:
    """Per execution (annotation, else the invocation index by request id), then per function.

    Invocations are numbered by the index when it knows them (a trace the
    sink never received leaves a gap instead of shifting the numbers).
    """
    index = index or []
    by_request = {e["request_id"]: e for e in index if e.get("request_id")}
    groups: dict[tuple[str | None, str | None], ExecutionGroup] = {}
    for trace in traces:
        arn = trace.execution_arn or (by_request.get(trace.request_id or "") or {}).get("execution_arn")
        key = (arn, None) if arn else (None, trace.function)
        group = groups.setdefault(key, ExecutionGroup(arn, trace.function, []))
        group.traces.append(trace)
    for group in groups.values():
        ordinals = {}
        if group.execution_arn:
            recorded = sorted((e for e in index if e.get("execution_arn") == group.execution_arn), key=lambda e: e.get("start") or 0.0)
            ordinals = {e.get("request_id"): n for n, e in enumerate(recorded, start=1)}
            group.recorded = len(recorded) if index else None
        for n, trace in enumerate(group.traces, start=1):
            trace.number = ordinals.get(trace.request_id, n) if ordinals else n
    return sorted(groups.values(), key=lambda g: min(t.start for t in g.traces))


# ----------------------------------------------------------------- fetching
def sink_url(config: StackConfig) -> str:
    return config.xray_url


def fetch_segments(config: StackConfig, **filters: str | list[str] | None) -> list[dict[str, Any]]:
    """GET /segments from the X-Ray sink; CliError when it does not answer."""
    from workshop.inspect import InspectError as CliError

    query = urllib.parse.urlencode({k: v for k, v in filters.items() if v}, doseq=True)
    url = f"{sink_url(config)}/segments" + (f"?{query}" if query else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read() or b"{}").get("Segments", [])
    except urllib.error.HTTPError as exc:
        raise CliError(f"The X-Ray sink answered {exc.code} for {url}: {exc.read()[:200].decode(errors='replace')}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise CliError(f"The X-Ray sink of the local stack is not running at {sink_url(config)} — start it with `make up`") from exc
    except ValueError as exc:
        raise CliError(f"The X-Ray sink answered something that is not JSON for {url}: {exc}") from exc


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
        label = Text("execution ", style="bold")
        label.append(group.execution_arn, style="bold cyan")
        label.append(f"  {group.function or '?'} · {count} invocation{'s' * (count != 1)} shown")
        if group.recorded is not None:  # fewer: older ones beyond --limit, or segments that never arrived
            label.append(f", {group.recorded} recorded by the function host", style="dim" if group.recorded == count else "yellow")
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
