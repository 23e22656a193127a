"""Work against the stack on a console, reported the `workshop` way: a failure is one red line and an exit code.

Why a module of its own: the `workshop` command's main runs every command through
``run``, and the demo and the lab runner show an execution's timeline through
``show_timeline``: the same output and the same messages when the stack is
down, without importing the command line.

Exit codes: 0 ok, 1 an AWS error / the stack is not running, 2 a bad
WORKSHOP_*_PORT or request parameter, 130 interrupted; the work returns its own
code otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError
from rich.console import Console
from rich.text import Text

from workshop.inspect import InspectError as CliError
from workshop.inspect import Services, error_text, not_running_message
from workshop.inspect.execution import load_timeline
from workshop.render.timeline import timeline_renderable


def run(work: Callable[[Services, Console, Console], int], services: Services | None = None) -> int:
    """Call ``work(services, out, err)`` with stdout and stderr consoles; report the stack's failures on err."""
    out = Console()
    err = Console(stderr=True)
    try:
        services = services or Services()
    except SystemExit as exc:  # StackConfig rejects a WORKSHOP_*_PORT that is not a port
        err.print(Text(str(exc.code), style="bold red"), soft_wrap=True)
        return 2
    try:
        return work(services, out, err)
    except CliError as exc:
        err.print(Text(exc.message, style="bold red"), soft_wrap=True)
        return exc.code
    except ClientError as exc:
        err.print(Text(error_text(exc), style="bold red"), soft_wrap=True)
        return 1
    except EndpointConnectionError as exc:
        config = services.config
        err.print(Text(not_running_message(config, exc.kwargs.get("endpoint_url", "")), style="bold red"), soft_wrap=True)
        return 1
    except ParamValidationError as exc:
        err.print(Text(str(exc), style="bold red"), soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted", style="yellow")
        return 130


def show_timeline(arn: str, services: Services | None = None) -> int:
    """Print one execution's timeline as `workshop timeline ARN` does; returns its exit code."""

    def draw(services: Services, out: Console, err: Console) -> int:
        timeline, function = load_timeline(services, arn)
        out.print(timeline_renderable(timeline, function))
        return 0

    return run(draw, services)
