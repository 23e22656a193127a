"""context.invoke of another durable function, by its alias.

Why: a durable target runs as an execution of its own (a child the runner
starts and links to this one); its result comes back as the CHAINED_INVOKE
operation's result once the child ends. Durable targets are invoked by a
qualified name, as on Lambda: DURABLE_INVOKE_TARGET is published as `live`.
"""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution

DURABLE_INVOKE_TARGET = "fidelity-invoke-durable-target"


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    receipt = context.invoke(f"{DURABLE_INVOKE_TARGET}:live", {"order": "o-1"}, name="fulfil")
    return {"receipt": receipt}
