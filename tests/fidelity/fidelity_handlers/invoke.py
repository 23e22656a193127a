"""context.invoke of a plain (non-durable) function, by name.

Why: a chained invoke is a CHAINED_INVOKE operation the runner starts and
completes on the target's answer; the target's result comes back as the
operation's result. The target is invoke_target.handler, deployed as its own
function (INVOKE_TARGET).
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

INVOKE_TARGET = "fidelity-invoke-target"


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    doubled = context.invoke(INVOKE_TARGET, {"n": 21}, name="double")
    return {"doubled": doubled}
