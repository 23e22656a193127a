"""A case run in-process under DurableFunctionTestRunner, its history in the API's shape.

The handler is imported from fidelity_handlers (the same module the live
function runs), the invoke targets registered under the names the template
gives them, and the runner's clock skips waits and retry delays, as the SDK's
own tests run. The history is the runner's GetDurableExecutionHistory, with
execution data, so it compares field for field with the live one.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from tests.fidelity.answers import answer
from tests.fidelity.chained import Events, with_children
from tests.fidelity.cases import EXECUTION_TIMEOUT_S, HANDLER_PACKAGE, TARGETS, Case


@dataclass
class _RunnerCallbacks:
    runner: DurableFunctionTestRunner

    def history(self, arn: str) -> list[Mapping[str, Any]]:
        return self.runner.get_execution_history(arn).to_dict()["Events"]

    def heartbeat(self, callback_id: str) -> None:
        self.runner.send_callback_heartbeat(callback_id)

    def succeed(self, callback_id: str, result: bytes) -> None:
        self.runner.send_callback_success(callback_id, result)


def handler_module(kind: str) -> Any:
    return importlib.import_module(f"{HANDLER_PACKAGE}.{kind}")


def run_in_process(case: Case) -> list[Events]:
    """The case's history events after its execution ended, then those of any durable execution it chained."""
    module = handler_module(case.kind)
    with DurableFunctionTestRunner(handler=module.handler, poll_interval=0.05) as runner:
        for target in TARGETS:
            target_handler = handler_module(target.module).handler
            if target.durable:
                runner.register_durable_function(target.name, target_handler, execution_timeout=EXECUTION_TIMEOUT_S)
            else:
                runner.register_function(target.name, target_handler)
        arn = runner.run_async(input=case.input, execution_timeout=EXECUTION_TIMEOUT_S, function_name=case.function_name)
        answer(_RunnerCallbacks(runner), arn, case.answers)
        runner.wait_for_result(arn, timeout=EXECUTION_TIMEOUT_S)

        def history_of(execution_arn: str) -> Events:
            return runner.get_execution_history(execution_arn, include_execution_data=True).to_dict()["Events"]

        return with_children(history_of(arn), history_of)
