"""The `workshop` argument parser, built statically: every command group adds its own subcommands.

Why a module of its own: the list of command groups (executions, metrics, traces, approvals, stacks), in the order `workshop
--help` shows them, is read in one place; each group's arguments stay next
to its handlers (``register(commands)`` in workshop.cli.executions, .metrics,
.traces, .approvals).
"""

from __future__ import annotations

import argparse

from workshop.cli import approvals, executions, metrics, stacks, traces


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workshop",
        description=(
            "Start, inspect and answer durable executions on the workshop's local stack "
            "(Lambda endpoint: the function host; set WORKSHOP_HOST_PORT etc. to use another stack)."
        ),
        epilog="Example: workshop start order-saga:live --payload '{\"order_id\": \"o-1\"}' --wait",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    executions.register(commands)  # start, list, show, timeline, callback, logs
    metrics.register(commands)
    traces.register(commands)  # `workshop traces` (lab 2)
    approvals.register(commands)  # approvals, approve, reject
    stacks.register(commands)  # deploy, stacks, delete: your own templates
    return parser
