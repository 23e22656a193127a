"""What to tell a learner under a failing stage: its hint only when the check failed the way the hint addresses.

A stage's hint teaches that stage's step. When the stage failed for another
reason (the file does not import, a step never returned, the checks could
not set up, the execution itself failed, a known pitfall of a later stage),
the hint sends the learner to something they may already have done, so the
advice for that failure is shown instead. The order below is the order in
which a cause hides the others: a file that does not import explains every
other failure; a pitfall explains the execution failing; and so on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from workshop.labs.checks import StageResult
from workshop.labs.first_error import FirstError
from workshop.labs.model import Lab, Stage


@dataclass(frozen=True)
class Advice:
    title: str
    text: str
    kind: str  # hint, import, pitfall, stuck, setup, execution, error (the run raised: error_advice)


def advice_for(lab: Lab, stage: Stage, result: StageResult) -> Advice:
    """The advice for this stage's failure (see the module's docstring for the order)."""
    kinds = {problem.kind for problem in result.problems}
    texts = [problem.text for problem in result.problems] + [problem.execution for problem in result.problems]
    n = lab.number
    if "import" in kinds:
        return Advice("your handler.py does not import", (
            "Nothing can run until it does: fix the line named above (the error says what Python "
            f"expected there), then run `make lab-{n}` again. Lost? `make lab-{n}-reset` puts the starter "
            f"back and keeps your file beside it as handler.py.bak-<time>; `make lab-{n}-solution` shows the way."
        ), "import")  # fmt: skip
    for pitfall in lab.pitfalls:
        if any(pitfall.seen in text for text in texts):
            return Advice("a known pitfall", pitfall.advice, "pitfall")
    if "stuck" in kinds:
        return Advice("a step that does not return", (
            "A run did not end: the step (or line) named above kept running until the function's timeout, "
            "when Lambda stops the invocation (Sandbox.Timedout) and the durable execution tries it again, "
            "and again. Look for a loop that never ends or a wait on something that never comes; code inside "
            "a step should do its work and return. The execution on the stack has been stopped."
        ), "stuck")  # fmt: skip
    if "setup" in kinds:
        return Advice("the checks could not set up", (
            "This is not about your code yet: a check's set-up failed (message above). Is the stack up? "
            "`make status` shows each service, `make logs` their last lines; `make up` starts it. Then "
            f"run `make lab-{n}` again."
        ), "setup")  # fmt: skip
    if "execution" in kinds:
        from workshop.labs.show import stack_command  # show.py imports this module

        how = next((p.execution for p in result.problems if p.execution), "")
        return Advice("the execution itself failed", (
            f"The run these checks read ended {how}. Fix that first: the timeline above shows the failing "
            f"invocation and its error, and `{stack_command(['.venv/bin/workshop', 'logs', lab.function_name])}` its log lines. "
            f"Then the stage's hint applies:\n\n{stage.hint}"
        ), "execution")  # fmt: skip
    return Advice("hint", stage.hint, "hint")


def describe_advice(advice: Advice) -> dict[str, str]:
    """What the progress file keeps of it, so `make lab-N-hint` shows the same advice later."""
    return {"title": advice.title, "text": advice.text, "kind": advice.kind}


# ------------------------------------------------------------- a run that raised
# Attributes of Lambda's context object: asked of a DurableContext, the learner passed the wrong context.
_LAMBDA_CONTEXT_ATTRIBUTES = ("get_remaining_time_in_millis", "aws_request_id", "function_name", "invoked_function_arn",
                              "memory_limit_in_mb", "log_group_name", "log_stream_name", "function_version")  # fmt: skip
_PASSES_THE_DURABLE_CONTEXT = re.compile(r"(register_lambda_context|lambda_context\s*=)\s*\(?\s*context\s*[,)]")


def error_advice(lab: Lab, first: FirstError, handler: Path, stage: Stage | None = None) -> Advice:
    """What to look at for the first error the learner's code raised (kind "error": make lab-N-hint shows it).

    A lab's pitfall that names the error comes first; then what a known kind
    of mistake means (a DurableContext where Lambda's context was wanted, a
    step result that cannot be checkpointed, a name not defined); else: the
    line and the message are the lead. The text holds the error itself, so the
    hint says it again without the run.
    """
    culprit = culprit_line(first, handler)
    said = first.traceback_text(handler.name) + (f"\nThe line: {culprit}" if culprit else "")  # it ends with the error
    title = "a known pitfall" if any(p.seen in said for p in lab.pitfalls) else f"your code raised {_type_and_message(first)[0]}"
    return Advice(title, f"{said}\n\n{error_guidance(lab, first, handler, stage)}", "error")


def error_guidance(lab: Lab, first: FirstError, handler: Path, stage: Stage | None = None) -> str:
    """What the error means and what to change: the lab's pitfall, a known mistake, or the line and the message.

    With no known meaning, the blocked stage's hint follows: a starter whose
    run fails is often the lesson itself (lab 5: one bad body sinks the batch).
    """
    n = lab.number
    said = first.traceback_text(handler.name)
    for pitfall in lab.pitfalls:
        if pitfall.seen in said:
            return pitfall.advice
    return _known_mistake(first, handler) or (
        f"Read the message, then the line of yours named above: that is where it was raised (or where you called "
        f"what raised it), and fix it." + (f" Stage {stage.number}'s hint: {stage.hint}" if stage else "")
    )


def _type_and_message(first: FirstError) -> tuple[str, str]:
    """The cause's type and message (the wrapped exception when a library wrapped the learner's)."""
    kind, _, message = first.headline.partition(":")
    return kind.strip(), message.strip()


def _known_mistake(first: FirstError, handler: Path) -> str | None:
    kind, message = _type_and_message(first)
    if kind == "AttributeError" and "'DurableContext'" in message and any(a in message for a in _LAMBDA_CONTEXT_ATTRIBUTES):
        return (
            "A DurableContext was given where Lambda's own context object was expected. In a durable handler `context` is the SDK's DurableContext; Lambda's context object "
            "(get_remaining_time_in_millis, aws_request_id, …) is `context.lambda_context`: pass that."
        )
    if kind == "SerDesError" or "serializ" in message.lower():
        return (
            "A step's return value is checkpointed as JSON, and this one cannot be: return plain data "
            "(dict, list, str, int, float, bool, None), e.g. an object's `.to_dict()`, not the object. "
            "The line above is the step whose result could not be saved."
        )
    if kind == "NameError":
        return "A name that does not exist where it is used: a typo, or an import missing at the top of handler.py."
    if kind in ("ImportError", "ModuleNotFoundError"):
        return "An import that fails when it runs: check the module and the name (order_saga, ingest and approval_wait are the services' packages)."
    return None


def culprit_line(first: FirstError, handler: Path) -> str:
    """The learner's line a known mistake points at when the traceback has none of theirs (a DurableContext passed on), else ""."""
    kind, message = _type_and_message(first)
    if kind == "AttributeError" and "'DurableContext'" in message and any(a in message for a in _LAMBDA_CONTEXT_ATTRIBUTES):
        return _line_passing_the_durable_context(handler)
    return ""


def _line_passing_the_durable_context(handler: Path) -> str:
    """`handler.py line 51: idempotency.config.register_lambda_context(context)`, or "" when no line says so."""
    try:
        lines = handler.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for number, line in enumerate(lines, start=1):
        if _PASSES_THE_DURABLE_CONTEXT.search(line):
            return f"{handler.name} line {number}: {line.strip()}"
    return ""
