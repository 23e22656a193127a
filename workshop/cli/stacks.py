"""`workshop deploy`, `workshop stacks`, `workshop delete`: your own SAM templates on the local stack.

The vocabulary is SAM's (`sam deploy --stack-name --parameter-overrides`,
`sam delete`), so what a learner types here is what they type for AWS. The
work is done by workshop.deploy; this module parses, prints and picks the exit
code (0 done, 1 the template or the stack refused, 2 a usage error).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from workshop.deploy import DeployError, StackSummary, delete, deploy, list_stacks
from workshop.inspect import Services
from workshop.paste import pasteable
from workshop.render.tables import ReadableTable, readable


def parse_overrides(items: list[str]) -> dict[str, str]:
    """SAM's two spellings: ``Key=Value`` and ``ParameterKey=Key,ParameterValue=Value``."""
    overrides: dict[str, str] = {}
    for item in items:
        if item.startswith("ParameterKey="):
            fields = dict(part.split("=", 1) for part in item.split(",") if "=" in part)
            if "ParameterValue" not in fields:
                raise argparse.ArgumentTypeError(f"{item!r}: ParameterKey=K,ParameterValue=V")
            overrides[fields["ParameterKey"]] = fields["ParameterValue"]
        elif "=" in item and not item.startswith("="):
            key, value = item.split("=", 1)
            overrides[key] = value
        else:
            raise argparse.ArgumentTypeError(f"{item!r} is not Key=Value")
    return overrides


class _ProvisionLines(logging.Handler):
    """The provisioner's one line per resource, printed as the deploy goes (dim: detail, not news)."""

    def __init__(self, out: Console) -> None:
        super().__init__(logging.INFO)
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        self._out.print(f"  {escape(record.getMessage())}", style="yellow" if record.levelno >= logging.WARNING else "dim", soft_wrap=True)


def cmd_deploy(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    try:
        overrides = parse_overrides(args.parameter_overrides or [])
    except argparse.ArgumentTypeError as exc:
        err.print(f"--parameter-overrides: {escape(str(exc))}", style="bold red")
        return 2
    logger = logging.getLogger("workshop.provision")
    handler, level = _ProvisionLines(out), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        stack = deploy(
            services.config, Path(args.template), args.stack_name, overrides,
            say=lambda line: err.print(escape(line), style="yellow", soft_wrap=True),
        )  # fmt: skip
    except DeployError as exc:
        err.print(escape(str(exc)), style="bold red", soft_wrap=True)
        return 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    out.print(
        f"[bold green]deployed[/] stack [bold]{escape(stack.name)}[/] from {escape(str(stack.template))}: "
        f"{len(stack.functions)} functions ({escape(', '.join(stack.functions)) or 'none'}), "
        f"{stack.mappings} event source mappings" + (f", {len(stack.warnings)} warnings" if stack.warnings else ""),
        soft_wrap=True,
    )
    if stack.functions:
        out.print("  invoke: " + escape(invoke_command(services.config.host_url, stack.functions[0])), soft_wrap=True)
    return 0


def invoke_command(host_url: str, function: str) -> str:
    """The AWS CLI call that invokes a deployed function's $LATEST on the local host (quoted: `$` is the shell's)."""
    return pasteable(["aws", "lambda", "invoke", "--endpoint-url", host_url, "--function-name", f"{function}:$LATEST", "out.json"])


def stacks_table(stacks: list[StackSummary]) -> ReadableTable:
    """The stacks deployed on the local stack; one that `make up` could not deploy again says why."""
    table = Table(title="Stacks on the local stack", title_justify="left")
    for column in ("Stack", "Template", "Functions", "Mappings"):
        table.add_column(column)
    for stack in stacks:
        functions = ", ".join(stack.functions) or "-"
        if stack.problem:
            functions = f"[red]not deployed: {escape(stack.problem)}[/]"
        table.add_row(escape(stack.name), escape(stack.template), functions, str(stack.mappings))
    return readable(table)


def cmd_stacks(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    out.print(stacks_table(list_stacks(services.config)))
    return 0


def cmd_delete(args: argparse.Namespace, services: Services, out: Console, err: Console) -> int:
    try:
        delete(services.config, args.stack_name, args.keep_data, say=lambda line: out.print(escape(line), style="dim"))
    except DeployError as exc:
        err.print(escape(str(exc)), style="bold red", soft_wrap=True)
        return 1
    kept = " (its tables and queues are kept)" if args.keep_data else ""
    out.print(f"[bold green]deleted[/] stack [bold]{escape(args.stack_name)}[/]{kept}")
    return 0


def register(commands: Any) -> None:
    """Add `deploy`, `stacks` and `delete` to the `workshop` subcommands."""
    deploy_command = commands.add_parser(
        "deploy",
        help="deploy your own SAM template into the running local stack",
        description=(
            "Provision a SAM template's resources (queues, tables, parameters, secrets) in the local emulator and "
            "register its functions with the function host and the runner, as `sam deploy` does on AWS. "
            "CodeUri is read relative to the template's folder. Deploying again updates the stack."
        ),
    )
    deploy_command.add_argument("template", metavar="TEMPLATE", help="path to the SAM template (template.yaml)")
    deploy_command.add_argument("--stack-name", metavar="NAME", help="the stack's name (default: the template's folder name)")
    deploy_command.add_argument(
        "--parameter-overrides", nargs="+", metavar="KEY=VALUE",
        help="template parameters, as sam deploy takes them (Key=Value or ParameterKey=K,ParameterValue=V)",
    )  # fmt: skip
    deploy_command.set_defaults(handler=cmd_deploy)

    stacks_command = commands.add_parser("stacks", help="list the stacks deployed on the local stack", description="List the deployed stacks: name, template, functions.")
    stacks_command.set_defaults(handler=cmd_stacks)

    delete_command = commands.add_parser(
        "delete",
        help="remove a deployed stack (functions, mappings, resources)",
        description="Remove a stack's functions and event source mappings, and its queues, tables, parameters and secrets (tables and queues stay with --keep-data).",
    )
    delete_command.add_argument("stack_name", metavar="NAME", help="the stack's name (see `workshop stacks`)")
    delete_command.add_argument("--keep-data", action="store_true", help="keep the stack's tables and queues")
    delete_command.set_defaults(handler=cmd_delete)
