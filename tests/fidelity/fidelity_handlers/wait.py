"""A step, a 1-second wait, a step.

Why: a wait suspends the execution and a timer in the runner resumes it; the
second invocation replays the first step. The history must show the wait's
duration and both steps once, whatever the runner's clock does.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, str]:
    before = context.step(lambda _: "before", name="before")
    context.wait(Duration.from_seconds(1), name="pause")
    after = context.step(lambda _: "after", name="after")
    return {"before": before, "after": after}
