"""The `workshop` command: start, list, inspect and answer durable executions on the local stack.

A package with one module per command group, registered statically by
`workshop.cli.parser.build_parser`: executions (start, list, show, timeline,
callback, logs), traces, metrics, approvals (approvals, approve, reject), stacks (deploy,
stacks, delete: your own SAM templates). The
data comes from `workshop.inspect`, the shared drawing from `workshop.render`;
nothing outside this package imports it (the demo and the lab runner draw a
timeline through `workshop.render.console.show_timeline`).

Exit codes: 0 ok, 1 an AWS error / the stack is not running / an execution
that did not succeed (`start --wait`), 2 a usage error (bad arguments, bad JSON).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from workshop.cli.parser import build_parser
from workshop.inspect import InspectError as CliError
from workshop.inspect import Services
from workshop.render.console import run

__all__ = ["CliError", "build_parser", "main"]


def main(argv: Sequence[str] | None = None, *, services: Services | None = None) -> int:
    """Entry point of `workshop` and `python -m workshop`; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) and usage errors (2): argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    handler: Callable[..., int] = args.handler
    return run(functools.partial(handler, args), services)
