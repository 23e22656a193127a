"""Rich output of an execution's timeline; no AWS calls here, only data in and renderables out.

Why outside the command package: `workshop timeline` draws it, and so do the demo
(workshop.tools.demo) and the lab runner (workshop.labs) after a live run,
through `workshop.render.console.show_timeline`; none of them imports the command line.

The timeline is the picture learners look at most, so its vocabulary is fixed:
  ↺ replayed   completed in an earlier invocation: the SDK returned the stored result
  ▶ ran        checkpointed by this invocation: the code really ran
  ⏸ suspended  still open when the invocation ended: what the execution waits on
  ⏰ resumed    recorded by the service between invocations (timer, callback, ...)
  ✓ SDK        the sections were checked against the SDK's replay recorder
  ⚠            the recorder disagrees about this operation (the history's view is shown)
"""

from __future__ import annotations

import json

from rich.console import Group
from rich.panel import Panel
from rich.text import Text
from rich.tree import Tree

from workshop.inspect.loglines import LogLine
from workshop.inspect.timeline import Invocation, Operation, Timeline
from workshop.paste import pasteable
from workshop.render.text import STATUS_STYLES, clock, seconds, short, status_text

LEVEL_STYLES = {"DEBUG": "dim", "INFO": "cyan", "WARNING": "yellow", "WARN": "yellow", "ERROR": "bold red", "CRITICAL": "bold red"}
MAX_LOG_LINES = 40
_KIND_LABELS = {"Step": "step", "Wait": "wait", "Callback": "callback", "ChainedInvoke": "invoke"}
_CONTEXT_LABELS = {
    "WaitForCallback": "wait_for_callback",
    "Parallel": "parallel",
    "ParallelBranch": "parallel branch",
    "Map": "map",
    "MapIteration": "map iteration",
    "RunInChildContext": "child context",
}


def kind_label(op: Operation) -> str:
    if op.kind == "Context":
        return _CONTEXT_LABELS.get(op.sub_type or "", "context")
    if op.kind == "Step" and op.sub_type and op.sub_type != "Step":
        return op.sub_type.lower()
    return _KIND_LABELS.get(op.kind, op.kind.lower())


def op_text(op: Operation, *, show_events: bool = True, indent: bool = True) -> Text:
    """One operation: kind, name, attempt, events, and what its details say."""
    text = Text("  " * op.depth if indent else "")
    text.append(kind_label(op) + " ", style="bold")
    text.append(op.name or op.id[:12], style="bold magenta")
    if op.attempt and (op.attempt > 1 or any(e == "StepFailed" for e in op.events)):
        text.append(f" (attempt {op.attempt})", style="yellow")
    if show_events and op.events:
        text.append("  " + " → ".join(op.events), style="dim")
    if op.summary:
        failed = any(e.endswith(("Failed", "TimedOut", "Stopped")) for e in op.events)
        text.append("  " + short(op.summary), style="red" if failed else "")
    if op.scheduled_end is not None and op.events[-1:] == ["WaitStarted"]:
        text.append(f", until {clock(op.scheduled_end)[:8]}")
    return _with_disagreement(text, op)


def _with_disagreement(text: Text, op: Operation) -> Text:
    if op.disagreement:
        text.append(f"  ⚠ {op.disagreement}", style="bold yellow")
    return text


def suspension_text(op: Operation, with_callback_id: bool = True) -> Text:
    """Why an invocation stopped here, in words a learner can act on."""
    text = Text()
    last = op.events[-1] if op.events else ""
    name = op.name or op.id[:12]
    if op.kind == "Wait":
        text.append(f"wait {name}", style="bold yellow")
    elif op.kind == "Callback":
        text.append(f"callback {name}", style="bold yellow")
        if op.callback_id and with_callback_id:
            text.append(f"  id {op.callback_id}", style="dim")
    elif op.kind == "ChainedInvoke":
        text.append(f"chained invoke {name}", style="bold yellow")
    elif op.kind == "Step" and last.endswith("Started"):
        text.append(f"step {name} started, no result recorded", style="bold yellow")
    elif op.kind == "Step":
        text.append(f"retry of {kind_label(op)} {name}", style="bold yellow")
        if op.attempt:
            text.append(f" (attempt {op.attempt} {'failed' if last == 'StepFailed' else 'done'})", style="yellow")
    else:
        text.append(f"{kind_label(op)} {name}", style="bold yellow")
    if op.summary and op.kind != "Callback":
        text.append("  " + short(op.summary))
    elif op.summary:
        text.append("  " + short(op.summary), style="dim")
    if op.kind == "Wait" and op.scheduled_end is not None:
        text.append(f", until {clock(op.scheduled_end)[:8]}")
    return _with_disagreement(text, op)


def log_text(line: LogLine) -> Text:
    if not line.is_json:
        return Text(line.text, style="")
    text = Text()
    level = (line.level or "").upper()
    if level:
        text.append(f"{level:<5} ", style=LEVEL_STYLES.get(level, "bold"))
    text.append(line.message if line.message is not None else "", style="")
    for key, value in line.fields.items():
        rendered = value if isinstance(value, str) else json.dumps(value, default=str)
        text.append(f"  {key}=", style="dim")
        text.append(short(rendered, 60), style="green")
    return text


def invocation_label(inv: Invocation) -> Text:
    text = Text()
    text.append(f"Invocation {inv.number}", style="bold")
    if inv.request_id:
        text.append(f"  request {inv.request_id}", style="dim")
    else:
        text.append("  request id unknown", style="dim")
    if inv.cold_start is True:
        text.append("  cold start", style="bold blue")
        text.append(f" (init {inv.init_ms:.1f} ms)", style="blue")
    elif inv.cold_start is False:
        text.append("  warm", style="blue")
    if inv.duration_ms is not None:
        text.append(f"  {inv.duration_ms:.1f} ms")
    if inv.start is not None:
        text.append(f"  {clock(inv.start)}", style="dim")
    elif inv.end is not None:
        text.append(f"  ended {clock(inv.end)}", style="dim")
    if inv.error_type:
        text.append(f"  {inv.error_type}", style="bold red")
    if inv.in_progress:
        text.append("  (in progress)", style="cyan")
    if inv.replay_source == "recorder":
        text.append("  ✓ SDK", style="green")
    return text


def _collapse(ops: list[Operation]) -> list[tuple[Operation, int]]:
    """Replayed operations inside a replayed context are never visited: show the context only."""
    ids = {op.id for op in ops}
    shown: list[tuple[Operation, int]] = []
    for op in ops:
        if op.parent_id in ids:
            continue
        inside = _count_inside(op.id, ops)
        shown.append((op, inside))
    return shown


def _count_inside(op_id: str, ops: list[Operation]) -> int:
    children = [o for o in ops if o.parent_id == op_id]
    return len(children) + sum(_count_inside(c.id, ops) for c in children)


def timeline_renderable(timeline: Timeline, function: str | None = None) -> Group:
    """The timeline as a rich Tree plus an outcome panel."""
    title = Text()
    title.append("Durable execution ", style="bold")
    title.append(timeline.execution_name or "?", style="bold magenta")
    if function:
        title.append(f"  ({function})", style="dim")
    title.append("  ")
    title.append_text(status_text(timeline.status))
    tree = Tree(title, guide_style="dim")
    if timeline.execution_arn:
        tree.add(Text(f"ARN {timeline.execution_arn}", style="dim"))
    start = Text(f"started {clock(timeline.started)}", style="dim")
    if timeline.input is not None:
        start.append("  input ", style="dim")
        start.append(short(timeline.input, 120))
    tree.add(start)

    previous_end: float | None = None
    for inv in timeline.invocations:
        if inv.resumed_by or (previous_end is not None and inv.start is not None):
            gap = Text("⏰ ", style="yellow")
            if previous_end is not None and inv.start is not None:
                gap.append(f"suspended {seconds(inv.start - previous_end)}", style="yellow")
            else:
                gap.append("between invocations", style="yellow")
            node = tree.add(gap)
            for op in inv.resumed_by:
                node.add(Text("service: ", style="dim").append_text(op_text(op, indent=False)))
        tree.add(_invocation_tree(inv))
        previous_end = inv.end if inv.end is not None else previous_end

    if timeline.after_last:
        node = tree.add(Text("⏰ after the last invocation (recorded by the service)", style="yellow"))
        for op in timeline.after_last:
            node.add(op_text(op))
    if timeline.notes:
        node = tree.add(Text("notes", style="bold yellow"))
        for note in timeline.notes:
            node.add(Text(note, style="yellow"))

    return Group(tree, outcome_panel(timeline), legend())


def _invocation_tree(inv: Invocation) -> Tree:
    node = Tree(invocation_label(inv), guide_style="dim")
    if inv.replayed:
        replayed = node.add(Text("↺ replayed (completed earlier; the SDK returned the stored results)", style="cyan"))
        for op, inside in _collapse(inv.replayed):
            text = op_text(op, show_events=False)
            text.stylize("cyan")
            if inside:
                text.append(f"  (+{inside} inside)", style="dim")
            replayed.add(text)
    ran = node.add(Text("▶ ran", style="bold green") if inv.ran else Text("▶ ran: no operation checkpointed", style="green"))
    for op in inv.ran:
        ran.add(op_text(op))
    if inv.arrived_during:
        during = node.add(Text("⏰ recorded by the service while it ran", style="yellow"))
        for op in inv.arrived_during:
            during.add(op_text(op))
    if inv.has_logs or inv.logs:
        count = len(inv.logs)
        logs = node.add(Text(f"log lines ({count})" if count else "log lines: none", style="bold blue" if count else "blue"))
        for line in inv.logs[:MAX_LOG_LINES]:
            logs.add(log_text(line))
        if count > MAX_LOG_LINES:
            logs.add(Text(f"… {count - MAX_LOG_LINES} more (workshop logs FUNCTION --execution ARN)", style="dim"))
    else:
        node.add(Text("log lines: not found", style="dim"))
    if inv.ended_execution:
        ended = Text("■ returned: execution ", style="bold")
        ended.append_text(status_text(inv.ended_execution))
        node.add(ended)
    elif inv.error_type:
        node.add(Text(f"✗ ended with {inv.error_type}", style="bold red"))
    if inv.ended_as in ("FAILED", "RETRY") and not inv.ended_execution:
        node.add(Text(f"✗ the SDK ended it {inv.ended_as}" + (f": {short(inv.ended_error)}" if inv.ended_error else ""), style="bold red"))
    if inv.suspended_on and not inv.ended_execution:
        label = "⏸ still open (invocation running)" if inv.in_progress else "⏸ suspended on"
        suspended = node.add(Text(label, style="bold yellow"))
        for op in inv.suspended_on:
            suspended.add(suspension_text(op))
    elif not inv.ended_execution and not inv.error_type and not inv.in_progress:
        node.add(Text("⏸ ended with no open operation recorded", style="yellow"))
    return node


def outcome_panel(timeline: Timeline) -> Panel:
    body = Text()
    body.append("status ")
    body.append_text(status_text(timeline.status))
    if timeline.started is not None and timeline.ended is not None:
        body.append(f"   took {seconds(timeline.ended - timeline.started)}")
    body.append(f"   invocations {len(timeline.invocations)}")
    if timeline.result is not None:
        body.append("\nresult ")
        body.append(short(timeline.result, 400), style="green")
    if timeline.error is not None:
        body.append("\nerror  ")
        body.append(short(timeline.error, 400), style="red")
    if timeline.status == "RUNNING":
        if timeline.pending:
            body.append("\nwaiting on:")
            for op in timeline.pending:
                body.append("\n  ")
                body.append_text(suspension_text(op, with_callback_id=False))
        if any(op.kind == "Callback" for op in timeline.pending):
            body.append(f"\ncallback ids and how to answer: {pasteable(['workshop', 'callback', 'pending', timeline.execution_arn or 'ARN'])}", style="dim")
    return Panel(body, title="outcome", title_align="left", border_style=STATUS_STYLES.get(timeline.status, "white").replace("bold ", ""))


def legend() -> Text:
    return Text(
        "↺ replayed: completed in an earlier invocation, result returned from the checkpoint · "
        "▶ ran: checkpointed by this invocation · ⏸ suspended: open when it ended · "
        "⏰ recorded by the service between invocations · "
        "✓ SDK: checked against the SDK's replay recorder (⚠ where it disagrees; the history is shown)",
        style="dim",
    )
