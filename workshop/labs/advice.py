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

from dataclasses import dataclass

from workshop.labs.checks import StageResult
from workshop.labs.model import Lab, Stage


@dataclass(frozen=True)
class Advice:
    title: str
    text: str
    kind: str  # hint, import, pitfall, stuck, setup, execution


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
