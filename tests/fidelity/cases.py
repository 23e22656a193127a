"""The fidelity cases: which handler, which function name, what input, how the test answers.

One Case per operation kind. `answers` are what the test does, in order, to
the callback the execution is waiting on (found in its history, never by
sleeping).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

HANDLER_PACKAGE = "fidelity_handlers"
FUNCTION_PREFIX = "fidelity-"
ALIAS = "live"
# DurableConfig.ExecutionTimeout of every fidelity function, and of the in-process run.
EXECUTION_TIMEOUT_S = 60


@dataclass(frozen=True)
class Target:
    """A function a case invokes (context.invoke): deployed beside the cases, registered in-process."""

    name: str  # the handler module's INVOKE_TARGET / DURABLE_INVOKE_TARGET
    module: str
    durable: bool

    @property
    def handler(self) -> str:
        return f"{HANDLER_PACKAGE}.{self.module}.handler"


TARGETS = (
    Target(FUNCTION_PREFIX + "invoke-target", "invoke_target", durable=False),
    Target(FUNCTION_PREFIX + "invoke-durable-target", "invoke_durable_target", durable=True),
)


@dataclass(frozen=True)
class Answer:
    """One thing the test sends to the open callback: a heartbeat, or its success with a result."""

    action: Literal["heartbeat", "succeed"]
    result: str | None = None


@dataclass(frozen=True)
class Case:
    kind: str  # the module in fidelity_handlers/
    # What the reference history must show, so a broken handler cannot make two
    # empty-handed runs agree: the execution's last event, and (operation, event)
    # pairs that must appear in this order.
    ends_with: str = "ExecutionSucceeded"
    shows: tuple[tuple[str, str], ...] = ()
    answers: tuple[Answer, ...] = ()

    @property
    def function_name(self) -> str:
        return FUNCTION_PREFIX + self.kind.replace("_", "-")

    @property
    def handler(self) -> str:
        return f"{HANDLER_PACKAGE}.{self.kind}.handler"

    @property
    def input(self) -> str:
        """The execution's input, the same bytes on both sides."""
        return json.dumps({"case": self.kind})


HEARTBEAT_THEN_SUCCEED = (Answer("heartbeat"), Answer("succeed", json.dumps({"approved": True})))

CASES: tuple[Case, ...] = (
    Case("step_retries", shows=(("flaky", "StepFailed"), ("flaky", "StepFailed"), ("flaky", "StepSucceeded"))),
    Case("wait", shows=(("before", "StepSucceeded"), ("pause", "WaitSucceeded"), ("after", "StepSucceeded"))),
    Case("wait_for_condition", shows=(("counter", "StepSucceeded"),) * 3),
    Case("callback", answers=HEARTBEAT_THEN_SUCCEED, shows=(("approval", "CallbackSucceeded"),)),
    Case("callback_timeout", shows=(("unanswered", "CallbackTimedOut"),)),
    Case("wait_for_callback", answers=HEARTBEAT_THEN_SUCCEED, shows=(("warehouse", "ContextSucceeded"), ("warehouse/warehouse create callback id", "CallbackSucceeded"))),
    Case("heartbeat_timeout", shows=(("silent-partner", "ContextFailed"), ("silent-partner/silent-partner create callback id", "CallbackTimedOut"))),
    Case("child_context", shows=(("reserve", "ContextSucceeded"), ("reserve/pick-meal", "StepSucceeded"), ("confirm", "StepSucceeded"))),
    Case("map_tolerance", shows=(("doubles", "ContextSucceeded"), ("doubles/item-3", "ContextFailed"), ("doubles/item-4", "ContextSucceeded"))),
    Case("parallel_tolerance", shows=(("trip", "ContextSucceeded"), ("trip/car/car-queue", "WaitSucceeded"), ("trip/hotel", "ContextFailed"))),
    Case("invoke", shows=(("double", "ChainedInvokeSucceeded"),)),
    Case("invoke_durable", shows=(("fulfil", "ChainedInvokeSucceeded"), ("chained[1]:pick", "StepSucceeded"), ("chained[1]:ship", "StepSucceeded"))),
    Case("handler_error", ends_with="ExecutionFailed", shows=(("read-amount", "StepSucceeded"),)),
    Case("large_payload", shows=(("big-step", "StepSucceeded"), ("big-child", "ContextSucceeded"), ("force-replay", "WaitSucceeded"))),
)
