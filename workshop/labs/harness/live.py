"""A lab's handler on the local stack: the one way the live checks and `make lab-N` put it there.

A live check needs the stack up (started if it is not running), the target's
code registered as the lab's function (`lab-N-topic`, or `...-starter` /
`...-solution` for LAB_TARGET), the lab's own set-up done (lab.py's
`prepare_live`), and then one real execution. Under `make lab-N`, for the labs
whose checks read the live run (CHECKS_READ_THE_LIVE_RUN), that execution has
just run: LAB_LIVE_EXECUTION names it (or LAB_LIVE_EXECUTION_FILE will, when
the checks started before it: handed_over()), and it is read back instead of
started again (its durable backoffs are waited out once, not twice).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.labs.checks import LIVE_EXECUTION_ENV, LIVE_EXECUTION_FILE_ENV
from workshop.labs.deadlines import StuckError, deadlines, step_timeout_s
from workshop.labs.model import Lab
from workshop.labs.run import ExecutionRun, read_live, run_live, start_live


def function_name(lab: Lab, target: str) -> str:
    """The function a target runs as on the stack: the learner's is the lab's own name."""
    return lab.function_name if target == "learner" else f"{lab.function_name}-{target}"


def ensure_stack(config: Any) -> None:
    """The stack up, quietly: left alone when it is running, started when it is not."""
    from workshop import stack

    if not stack.status(config, say=lambda line: None):
        stack.up(config, say=lambda line: None)


@dataclass
class LiveFunction:
    """A target's code registered on the stack as the lab's function, ready to run."""

    config: Any
    name: str
    deadline_s: float = 120.0  # the lab's live deadline (deadlines.py)

    def start(self, payload: dict[str, Any]) -> str:
        """Start one execution (an Event invoke): its ARN, at once."""
        return start_live(self.config, self.name, payload)

    def run(self, payload: dict[str, Any]) -> ExecutionRun:
        """One execution, waited for, each invocation's lines read back."""
        return run_live(self.config, self.name, payload, self.deadline_s)

    def read(self, arn: str) -> ExecutionRun:
        """An execution of this function already started: waited for and read back."""
        return read_live(self.config, self.name, arn, self.deadline_s)


def deploy(lab: Lab, target: str, config: Any) -> LiveFunction:
    """Register the target's code as the lab's function (from lab.py's BASE_FUNCTION) and do the lab's set-up.

    With lab.py's TIME_SCALE, the runner fires that function's durable timers
    sooner (the registry writes the runner's function configs before this
    returns, so the first execution already runs scaled).

    `make up` rewrites the registry from the template, so this runs before every live run.
    """
    from workshop import registry

    name = function_name(lab, target)
    registry.register_copy(config, name, str(lab.handler_path(target).parent), lab.base_function, lab.env_overrides,
                           timeout_s=step_timeout_s(), time_scale=lab.time_scale,
                           scale_callback_timeouts=lab.scale_callback_timeouts)  # fmt: skip
    lab.prepare_live(config)
    return LiveFunction(config=config, name=name, deadline_s=deadlines(lab).live_s)


def live_run(lab: Lab, target: str, payload: dict[str, Any] | None = None, config: Any = None) -> ExecutionRun:
    """One real execution of the target's handler on the local stack (started if it is not running).

    Without a payload of its own: the lab's payload, or, under make lab-N
    (LAB_LIVE_EXECUTION set), the execution that command just ran, read back.
    A check that passes its own payload always gets an execution of its own.
    """
    from workshop.config import StackConfig

    config = config or StackConfig()
    just_ran = (os.environ.get(LIVE_EXECUTION_ENV) or handed_over()) if payload is None else None
    ensure_stack(config)
    if just_ran:  # make lab-N ran this target's code on the stack a moment ago: check that execution
        return read_live(config, function_name(lab, target), just_ran, deadlines(lab).live_s)
    return deploy(lab, target, config).run(lab.payload if payload is None else payload)


# make lab-N hands its execution over once the stack is up and the function deployed:
# seconds on a warm stack, a cold `make up` (about a minute at worst) before that.
HANDOVER_DEADLINE_S = 180.0


def handed_over(deadline_s: float = HANDOVER_DEADLINE_S, poll_s: float = 0.02) -> str | None:
    """The ARN make lab-N hands over (LAB_LIVE_EXECUTION_FILE), waited for; None when not asked to wait.

    The checks were started before make lab-N's live run (checks.start_checks
    with follow_live_run), so that pytest's start-up and the in-process checks
    overlap it. A make lab-N that ends first (its parent gone) or never hands
    over ends the wait with the cause, not a hang.
    """
    path = os.environ.get(LIVE_EXECUTION_FILE_ENV)
    if not path:
        return None
    handover, parent = Path(path), os.getppid()
    deadline = time.monotonic() + deadline_s
    while not handover.exists():
        if os.getppid() != parent:
            raise StuckError("make lab-N ended before it started its live run: no live execution to check")
        if time.monotonic() > deadline:
            raise StuckError(f"make lab-N started no live execution within {deadline_s:.0f} s (the stack or the deploy did not get there)")
        time.sleep(poll_s)
    return handover.read_text(encoding="utf-8").strip() or None
