"""Large results: a 200 KB step result and a 300 KB child-context result, then a wait.

Why: the step's result is checkpointed whole (under the 256 KB operation
limit) and comes back on every replay through the invocation's state; the
child context's result is over the limit, so the SDK checkpoints an empty
summary with ReplayChildren and runs the children again on replay. The wait
forces that replay. Only the sizes are returned.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

STEP_BYTES = 200_000
CHILD_BYTES = 300_000


def big_child(child: DurableContext) -> str:
    return child.step(lambda _: "c" * (CHILD_BYTES // 2), name="half") * 2


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, int]:
    step_result = context.step(lambda _: "s" * STEP_BYTES, name="big-step")
    child_result = context.run_in_child_context(big_child, name="big-child")
    context.wait(Duration.from_seconds(1), name="force-replay")
    return {"step": len(step_result), "child": len(child_result)}
