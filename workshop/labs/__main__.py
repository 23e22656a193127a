"""`make lab-N`, `make lab-N-hint`, `make lab-N-solution`, `make lab-N-reset`, `make progress`, `make next`, `make watch`.

    python -m workshop.labs run N        goal, a live run, the lab's signal, the stage checks
    python -m workshop.labs hint N       your first failing stage's hint, one level per call: the
                                         direction, the API, the code (--level 3: the code at once);
                                         what your last run's failure needs first, if it was not the hint
    python -m workshop.labs solution N   the diff from your handler.py to the solution
    python -m workshop.labs reset N      restore the starter (your file is kept as a backup)
    python -m workshop.labs progress     every lab and stage: the best result and the last run
    python -m workshop.labs next         run the first lab with a stage that has not passed yet
    python -m workshop.labs watch [N]    run lab N (default: the current lab) again whenever handler.py is saved
    python -m workshop.labs verify [N]   CI: every stage fails on the starter, passes on the solution

`run` takes LAB_TARGET (learner, the default; starter; solution) as the checks
do, and writes its phase timings to WORKSHOP_LAB_TIMINGS when set: `make bench`
times the solution's `make lab-N` that way, leaving the learner's files alone.
Ctrl-C ends any of them with one line and exit status 130 (the shell's own
code for an interrupt), never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from workshop.labs.commands import (  # noqa: F401 - TIMINGS_ENV and Phases: make bench imports them from here
    TIMINGS_ENV,
    Phases,
    cmd_hint,
    cmd_next,
    cmd_progress,
    cmd_reset,
    cmd_run,
    cmd_solution,
    cmd_verify,
    labs_to_verify,
)
from workshop.labs.model import find_lab
from workshop.labs.show import console

INTERRUPTED = 130


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "progress":
        return cmd_progress()
    if args.command == "next":
        return cmd_next()
    if args.command == "verify":
        return cmd_verify(labs_to_verify(args.lab))
    if args.command == "watch":
        from workshop.labs.watch import cmd_watch

        return cmd_watch(args.lab)
    if args.lab is None:
        parser.error(f"{args.command} needs a lab number, e.g. `python -m workshop.labs {args.command} 1`")
    lab = find_lab(args.lab)
    if args.command == "hint":
        from workshop.labs.hints import parse_level

        return cmd_hint(lab, parse_level(args.level) if args.level else None)
    return {"run": cmd_run, "solution": cmd_solution, "reset": cmd_reset}[args.command](lab)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.labs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "hint", "solution", "reset", "progress", "next", "watch", "verify"])
    parser.add_argument("lab", nargs="?", type=int, help="the lab number")
    parser.add_argument("--level", help="hint only: 1 the direction, 2 the API, 3 the code (make lab-N-hint LEVEL=3)")
    args = parser.parse_args(argv)
    try:
        return _dispatch(parser, args)
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/] ({args.command}): stopped; your handler.py and progress are as they were.")
        return INTERRUPTED
    except SystemExit as exc:
        if isinstance(exc.code, str):
            console.print(f"[red]{exc.code}[/]")
            return 1
        raise


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # a second Ctrl-C while the first was being handled
        sys.exit(INTERRUPTED)
