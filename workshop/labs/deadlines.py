"""How long each part of `make lab-N` may take, and what to say when a part takes longer.

A learner's handler can loop forever inside a step. Lambda stops such an
invocation at the function's timeout (`Sandbox.Timedout`) and the durable
execution tries it again; in-process the test runner would wait forever. So
every part has a deadline derived from the lab, and passing one ends the part
with its cause named (which step, which invocations, which line of the
learner's file), never with "still RUNNING" and never by hanging:

- `step_s`: one invocation, the function's timeout: 30 s, the template's
  `Globals.Function.Timeout`, which a lab's registered copy inherits. The
  in-process runner gets the same limit, so both paths stop a step alike.
- `live_s`: a whole live run: the lab's usual run (lab.py `LIVE_RUN_S`,
  default 30) plus two step timeouts.
- `checks_s`: the stage checks' subprocess as a whole, a backstop: the lab's
  usual checks (lab.py `CHECKS_RUN_S`, default 60) plus three step timeouts.

`WORKSHOP_LAB_STEP_TIMEOUT_S` overrides `step_s` (the others follow): the
workshop's own tests set it to a few seconds so that an infinite loop is
proven to end without waiting 30 s; the lab's function copy on the stack is
then registered with that timeout too.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STEP_TIMEOUT_ENV = "WORKSHOP_LAB_STEP_TIMEOUT_S"
FUNCTION_TIMEOUT_S = 30  # infra/template.yaml, Globals.Function.Timeout (a unit test holds the two together)


class StuckError(AssertionError):
    """A run passed its deadline; the message is the cause, for the learner (an AssertionError: a check failed)."""


@dataclass(frozen=True)
class Deadlines:
    step_s: int
    live_s: int
    checks_s: int


def step_timeout_s() -> int | None:
    """The override of the function's timeout, or None (then the function keeps its own)."""
    raw = os.environ.get(STEP_TIMEOUT_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{STEP_TIMEOUT_ENV}={raw!r} is not a whole number of seconds") from None
    if not 1 <= value <= 900:
        raise SystemExit(f"{STEP_TIMEOUT_ENV}={raw!r}: use 1 to 900 seconds (Lambda's own range)")
    return value


def deadlines(lab: Any) -> Deadlines:
    step = step_timeout_s() or FUNCTION_TIMEOUT_S
    module = getattr(lab, "module", None)
    live = int(getattr(module, "LIVE_RUN_S", 30))
    checks = int(getattr(module, "CHECKS_RUN_S", 60))
    return Deadlines(step_s=step, live_s=live + 2 * step, checks_s=checks + 3 * step)


# ------------------------------------------------------------ naming the cause
def unfinished_step(events: list[dict[str, Any]]) -> str | None:
    """The name of the last step that started and has not ended, from an execution's history events."""
    open_steps: dict[str, str] = {}
    for event in events:
        kind = str(event.get("EventType", ""))
        if not kind.startswith("Step"):
            continue
        key = str(event.get("Id") or event.get("Name"))
        if kind == "StepStarted":
            open_steps[key] = str(event.get("Name") or key)
        else:  # StepSucceeded, StepFailed (a retry starts again with StepStarted)
            open_steps.pop(key, None)
    return list(open_steps.values())[-1] if open_steps else None


def invocation_span(numbers: list[int]) -> str:
    """ "invocation 2", "invocations 1–5", "invocations 1, 3" """
    if len(numbers) == 1:
        return f"invocation {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"invocations {numbers[0]}–{numbers[-1]}"
    return "invocations " + ", ".join(map(str, numbers))


def timed_out_text(step: str | None, timeout_s: float, timed_out: list[int], error_type: str | None = "Sandbox.Timedout") -> str:
    """The cause, as make lab-N says it: which step, within what, in which invocations.

    error_type None: in-process, where the runner stops an invocation at the
    same timeout but has no Lambda error type to report.
    """
    what = f"step `{step}`" if step else "the handler (outside any step)"
    if error_type:
        return f"{what} did not return within {timeout_s:.0f} s: `{error_type}` in {invocation_span(timed_out)}"
    return f"{what} did not return within {timeout_s:.0f} s, the function's timeout, in {invocation_span(timed_out)}"


def learner_line(handler_file: Path) -> str:
    """Where the learner's file is running right now, in any thread: `handler.py line 12 in spin: n += 1`.

    In-process only (the stuck step runs in this process); "" when no thread is in that file.
    """
    import linecache

    wanted = str(handler_file.resolve())
    for frame in sys._current_frames().values():
        innermost = None
        while frame is not None:
            if frame.f_code.co_filename and str(Path(frame.f_code.co_filename).resolve()) == wanted:
                innermost = innermost or frame
            frame = frame.f_back
        if innermost is not None:
            code = linecache.getline(str(handler_file), innermost.f_lineno).strip()
            return f"{handler_file.name} line {innermost.f_lineno}, in {innermost.f_code.co_name}: `{code}`"
    return ""
