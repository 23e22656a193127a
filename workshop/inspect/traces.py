"""The X-Ray segments of the stack's invocations, as trees per trace, grouped per durable execution.

Why in workshop.inspect: `workshop traces` draws these trees, and the lab
checks (lab 2's tracing, lab 6's secret scan) read the same segments and
trees; none of them should need the command line to get at the data.

Data: the X-Ray sink (GET /segments, workshop.stack.xray_sink) and, with
--execution, the function host's invocation index (GET
/_workshop/invocations), which knows every invocation of an execution even
when its segment carries no annotation or never arrived.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from workshop.config import StackConfig
from workshop.stack.xray_sink import latest_per_id

FUNCTION_ORIGIN = "AWS::Lambda::Function"


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
