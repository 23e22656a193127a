"""`workshop start`, `list`, `show`, `timeline`, `callback` and `logs`: the commands on durable executions.

All AWS calls go through `workshop.config.boto3_client`, so the same commands
work against any stack the WORKSHOP_* variables point at. This module does the
I/O; `workshop.inspect` assembles data, `workshop.render` and
`workshop.cli.tables` draw it.

Registered into `workshop.cli.parser.build_parser` by ``register(commands)``;
errors are reported by `workshop.cli.main`.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from workshop import registry as function_registry
from workshop.cli import tables
from workshop.inspect import (
    TERMINAL,
    Services,
    invocation_logs,
    read_stream,
    split_qualifier,
)
from workshop.inspect import InspectError as CliError
from workshop.inspect.events import epoch_seconds
from workshop.inspect import callbacks
from workshop.inspect.execution import list_executions, load_timeline, pending_callbacks
from workshop.paste import pasteable
from workshop.render.timeline import timeline_renderable

DEFAULT_WAIT_S = 900.0


# ------------------------------------------------------------ argument types
def succeed_command(callback_id: str) -> str:
    """The command that answers a waiting callback, its result left for the learner to write."""
    return pasteable(["workshop", "callback", "succeed", callback_id, "--result", "{...}"])


def json_text(raw: str) -> str:
    """argparse type: the text must be JSON (checked here so typos never reach AWS)."""
    try:
        json.loads(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {raw!r}") from exc
    return raw


# ----------------------------------------------------------------- commands
def cmd_start(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    name, _ = split_qualifier(args.function)
    if function_registry.exists(services.config):
        spec = services.registry().get("functions", {}).get(name)
        if spec is not None and not spec.get("durable"):
            # An asynchronous Invoke would run it once as a plain function: refuse instead.
            raise CliError(f"{name} is not a durable function (no DurableConfig in {services.config.registry_path}); nothing was invoked.")
    request: dict[str, Any] = {"FunctionName": args.function, "InvocationType": "Event", "Payload": args.payload.encode()}
    if args.name:
        request["DurableExecutionName"] = args.name
    response = services.client("lambda").invoke(**request)
    arn = response.get("DurableExecutionArn")
    if not arn:
        raise CliError(f"{args.function} did not start a durable execution (no DurableExecutionArn): is it a durable function?")
    out.print(arn, highlight=False, soft_wrap=True)
    if not args.wait:
        return 0
    detail = wait_for_execution(services, arn, args.timeout, err)
    if detail is None:
        err.print(
            f"[yellow]Still RUNNING after {args.timeout:g} s[/] — follow it with [bold]{escape(pasteable(['workshop', 'timeline', arn]))}[/]",
            highlight=False,
            soft_wrap=True,
        )
        return 1
    status = detail.get("Status")
    if status == "SUCCEEDED":
        out.print(tables.pretty_json(detail.get("Result")), highlight=False, soft_wrap=True)
        return 0
    error = detail.get("Error") or {}
    message = ": ".join(p for p in (error.get("ErrorType"), error.get("ErrorMessage")) if p) or status
    err.print(Text(f"{status}: {message}", style="bold red"))
    return 1


def wait_for_execution(services: Services, arn: str, timeout_s: float, err: Console) -> dict[str, Any] | None:
    """Poll GetDurableExecution until a final status or the deadline (None); show a spinner meanwhile."""
    lambda_ = services.client("lambda")
    started = time.monotonic()
    deadline = started + timeout_s
    delay = 0.1
    hinted: set[str] = set()
    next_callback_check = started + 1.0
    with err.status("starting…", spinner="dots") as status:
        while True:
            detail = lambda_.get_durable_execution(DurableExecutionArn=arn, IncludeExecutionData=True)
            state = detail.get("Status", "?")
            if state in TERMINAL:
                return detail
            now = time.monotonic()
            if now >= deadline:
                return None
            waiting = ""
            if now >= next_callback_check:
                next_callback_check = now + 2.0
                for row in pending_callbacks(services, [arn]):
                    waiting = f" — waiting for callback {row['operation']}"
                    if row["callback_id"] not in hinted:
                        hinted.add(row["callback_id"])
                        err.print(
                            f"[yellow]waiting for callback[/] {escape(row['operation'])}: answer it with\n"
                            f"  {escape(succeed_command(row['callback_id']))}",
                            highlight=False,
                            soft_wrap=True,
                        )
            status.update(f"{state} for {now - started:.1f} s{waiting}")
            time.sleep(min(delay, max(deadline - now, 0)))
            delay = min(delay * 1.5, 0.5)


def cmd_list(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    if args.function:
        targets = [args.function]
        known = services.durable_functions() if function_registry.exists(services.config) else None
        if known is not None and split_qualifier(args.function)[0] not in known:
            err.print(f"[yellow]{split_qualifier(args.function)[0]} is not a durable function in {services.config.registry_path}[/]", highlight=False)
    else:
        targets = services.durable_functions()
    rows = list_executions(services, targets, args.status)
    if not rows:
        out.print("No durable executions yet. Start one with: workshop start FUNCTION:live --payload '{...}'", highlight=False, soft_wrap=True)
        return 0
    out.print(tables.executions_table(rows, show_function=len(targets) != 1, width=out.width), soft_wrap=True)
    return 0


def cmd_show(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    detail = services.client("lambda").get_durable_execution(DurableExecutionArn=args.arn, IncludeExecutionData=True)
    out.print(tables.execution_panel(detail))
    out.print(f"[dim]what ran in which invocation: {escape(pasteable(['workshop', 'timeline', args.arn]))}[/]", highlight=False, soft_wrap=True)
    return 0


def cmd_timeline(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    timeline, function = load_timeline(services, args.arn)
    if args.json:
        print(json.dumps(timeline.to_dict(), indent=2, default=str, ensure_ascii=False))
        return 0
    out.print(timeline_renderable(timeline, function))
    return 0


def cmd_callback(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    if args.action == "succeed":
        callbacks.succeed(services, args.callback_id, args.result)
        out.print(f"[green]sent success[/] to callback {args.callback_id}", highlight=False, soft_wrap=True)
    elif args.action == "fail":
        callbacks.fail(services, args.callback_id, args.error_type, args.error_message)
        out.print(f"[red]sent failure[/] to callback {args.callback_id}", highlight=False, soft_wrap=True)
    elif args.action == "heartbeat":
        callbacks.heartbeat(services, args.callback_id)
        out.print(f"sent heartbeat to callback {args.callback_id}", highlight=False, soft_wrap=True)
    else:  # pending
        arns = [args.arn] if args.arn else callbacks.running_executions(services)
        rows = pending_callbacks(services, arns)
        if not rows:
            out.print("No callback is waiting for an answer.", highlight=False)
            return 0
        out.print(tables.callbacks_table(rows))
        out.print("Answer one (or: workshop callback fail ID --error-type T --error-message M):", style="dim", highlight=False)
        for number, row in enumerate(rows, start=1):
            out.print(f"#{number} {succeed_command(row['callback_id'])}", highlight=False, soft_wrap=True, markup=False)
    return 0


def cmd_logs(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    name, _ = split_qualifier(args.function)
    group = services.log_group(name)
    if args.execution:
        entries = [e for e in services.invocations(execution_arn=args.execution) if e.get("function") in (None, name)]
        if not entries:
            out.print(f"No invocation of {name} recorded for execution {args.execution}.", highlight=False, soft_wrap=True)
            return 0
        by_request, problems = invocation_logs(services, entries)
        for problem in problems:
            err.print(f"[yellow]{problem}[/]", highlight=False)
        lines = [line for e in entries for line in by_request.get(e["request_id"], [])]
    else:
        streams: list[str] = []
        paginator = services.client("logs").get_paginator("describe_log_streams")
        for page in paginator.paginate(logGroupName=group):
            streams.extend(s["logStreamName"] for s in page.get("logStreams", []))
        blocks: list[tuple[int, int, list[str]]] = []  # (first timestamp, order, lines) per invocation
        for stream in streams:
            events = read_stream(services, group, stream)
            block: list[str] = []
            first = 0
            for timestamp, message in events:
                if not block:
                    first = timestamp
                block.append(message)
                if message.startswith("REPORT RequestId:"):
                    blocks.append((first, len(blocks), block))
                    block = []
            if block:
                blocks.append((first, len(blocks), block))
        lines = [line for _, _, block in sorted(blocks) for line in block]
    if args.tail is not None:
        lines = lines[-args.tail :] if args.tail > 0 else []
    for line in lines:
        style = "dim" if line.startswith(("START RequestId:", "END RequestId:", "REPORT RequestId:")) else ""
        out.print(Text(line, style=style), soft_wrap=True)
    if not lines:
        out.print(f"No log lines in {group}.", highlight=False)
    return 0


# ------------------------------------------------------------------ parsers
def register(commands: Any) -> None:
    """Add `start`, `list`, `show`, `timeline`, `callback` and `logs` to the `workshop` subcommands."""
    start = commands.add_parser(
        "start",
        help="start a durable execution (asynchronous Invoke)",
        description=(
            "Invoke a durable function asynchronously (InvocationType=Event) and print the new "
            "execution's ARN. Durable functions must be invoked by a qualified name."
        ),
    )
    start.add_argument("function", metavar="FUNCTION", help="qualified function name, e.g. order-saga:live or order-saga:$LATEST")
    start.add_argument("--payload", required=True, type=json_text, metavar="JSON", help="the event, as JSON")
    start.add_argument(
        "--name",
        metavar="NAME",
        help="DurableExecutionName: the same name and payload return the same execution (an idempotent start)",
    )
    start.add_argument("--wait", action="store_true", help="wait for the execution to end and print its result")
    start.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_WAIT_S,
        metavar="SECONDS",
        help=f"with --wait: give up waiting after this long (default {DEFAULT_WAIT_S:g}); the execution goes on",
    )
    start.set_defaults(handler=cmd_start)

    list_ = commands.add_parser(
        "list",
        help="list durable executions",
        description="List the executions of one durable function, or of every durable function in the stack's registry.",
    )
    list_.add_argument("function", metavar="FUNCTION", nargs="?", help="a function name (name:qualifier filters by qualifier)")
    list_.add_argument("--status", choices=sorted(TERMINAL | {"RUNNING"}), help="only executions in this status")
    list_.set_defaults(handler=cmd_list)

    show = commands.add_parser(
        "show",
        help="status, input, result or error of one execution",
        description="Show one durable execution (GetDurableExecution with its input and result).",
    )
    show.add_argument("arn", metavar="ARN", help="the DurableExecutionArn (printed by `workshop start`, listed by `workshop list`)")
    show.set_defaults(handler=cmd_show)

    timeline = commands.add_parser(
        "timeline",
        help="each invocation of an execution: what ran, what was replayed, what it waited on, its log lines",
        description=(
            "Make replay visible. For each invocation of the handler: the operations it really ran, "
            "the ones the SDK replayed from checkpoints, what suspended it (wait, callback, retry) "
            "and the log lines it printed. Built from the durable history, the function host's "
            "invocation index and CloudWatch Logs."
        ),
    )
    timeline.add_argument("arn", metavar="ARN", help="the DurableExecutionArn")
    timeline.add_argument("--json", action="store_true", help="print the assembled timeline as JSON instead of drawing it")
    timeline.set_defaults(handler=cmd_timeline)

    callback = commands.add_parser(
        "callback",
        help="answer a callback an execution waits for, or list the waiting ones",
        description="Answer a durable callback (SendDurableExecutionCallbackSuccess/Failure/Heartbeat), or list pending ones.",
    )
    actions = callback.add_subparsers(dest="action", metavar="ACTION", required=True)
    succeed = actions.add_parser("succeed", help="complete a callback with a result", description="Complete a callback successfully.")
    succeed.add_argument("callback_id", metavar="CALLBACK_ID", help="the callback id (see `workshop callback pending`)")
    succeed.add_argument("--result", type=json_text, metavar="JSON", help="the result the execution receives, as JSON")
    fail = actions.add_parser("fail", help="fail a callback with an error", description="Fail a callback: the execution sees an error.")
    fail.add_argument("callback_id", metavar="CALLBACK_ID", help="the callback id (see `workshop callback pending`)")
    fail.add_argument("--error-type", metavar="T", help="ErrorType, e.g. Rejected")
    fail.add_argument("--error-message", metavar="M", help="ErrorMessage, e.g. 'no stock in the warehouse'")
    heartbeat = actions.add_parser(
        "heartbeat",
        help="keep a callback with a heartbeat timeout alive",
        description="Send a heartbeat: resets the callback's heartbeat timeout.",
    )
    heartbeat.add_argument("callback_id", metavar="CALLBACK_ID", help="the callback id")
    pending = actions.add_parser(
        "pending",
        help="list callbacks that are waiting for an answer",
        description="List callbacks started and not yet answered, for one execution or every running one.",
    )
    pending.add_argument("arn", metavar="ARN", nargs="?", help="only this execution (default: every RUNNING execution)")
    callback.set_defaults(handler=cmd_callback)

    logs = commands.add_parser(
        "logs",
        help="a function's log lines from CloudWatch Logs",
        description="Print a function's log lines (CloudWatch Logs in the emulator), one invocation after another.",
    )
    logs.add_argument("function", metavar="FUNCTION", help="function name")
    logs.add_argument("--execution", metavar="ARN", help="only the invocations of this durable execution")
    logs.add_argument("--tail", type=int, metavar="N", help="only the last N lines")
    logs.set_defaults(handler=cmd_logs)
