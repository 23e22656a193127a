"""The runner internals recovery uses, checked at start: a different runner version fails loudly (see recovery.py)."""

from __future__ import annotations

import inspect
import logging
from typing import Any

logger = logging.getLogger("workshop.runner.launcher")

PINNED_VERSION = "1.4.0"


class RecoveryUnsupported(RuntimeError):
    """The installed runner lacks an internal this recovery relies on."""


# Private (and a few public) members recovery.py, heartbeats.py and stall_guard.py use: object -> attribute -> expected parameters (None: not callable).
_REQUIRED: dict[str, dict[str, tuple[str, ...] | None]] = {
    "WebRunner": {"_executor": None, "_store": None, "_scheduler": None},
    "Executor": {
        "_completion_events": None,
        "_execution_timeouts": None,
        "_callback_timeouts": None,
        "_callback_heartbeats": None,
        "_registry": None,
        "_clock": None,
        "_closing": None,
        "_schedule_earliest_pending": ("execution_arn",),
        "_invoke_execution": ("execution_arn", "delay"),
        "_invocation_gate": ("arn",),
        "_on_callback_timeout": ("execution_arn", "callback_id"),
        "_on_callback_heartbeat_timeout": ("execution_arn", "callback_id"),
        "_notify_parent_of_terminal_child": ("child_arn",),
        "_record_child_on_parent": ("parent_arn", "operation_id", "child_arn"),
        "on_timed_out": ("execution_arn", "error"),
        "on_chained_invoke_started": ("execution_arn", "operation_id", "function_name", "tenant_id", "payload"),
        "send_callback_heartbeat": ("callback_id",),
    },
    "Execution": {
        "has_pending_operations": ("execution",),
        "has_unseen_changes": (),
        "get_operation_execution_started": (),
    },
    "Scheduler": {"call_later": ("func", "delay", "count", "completion_event"), "create_event": ()},
}
_EXECUTION_FIELDS = (
    "operations", "updates", "update_timestamps", "invocation_completions", "chained_invoke_children",
    "parent_execution_arn", "needs_reinvoke", "is_complete", "is_paused", "start_input", "durable_execution_arn",
    "seq_counter", "token_sequence", "consecutive_failed_invocation_attempts",
)  # fmt: skip


def shape_problems(owners: dict[str, Any], methods: dict[str, tuple[str, ...]], executor: Any, sources: dict[str, str]) -> list[str]:
    """What differs from the internals a clock change relies on (timescale.py, function_scale.py).

    `methods`: "Owner.name" -> the parameters it must take first (owners maps
    each Owner to its object); `sources`: Executor method -> a call its source
    must still make (how it arms or fires the timers being changed).
    """
    problems: list[str] = []
    for label, params in methods.items():
        owner, name = label.split(".")
        target = getattr(owners[owner], name, None)
        if target is None:
            problems.append(f"{label} is missing")
            continue
        found = tuple(p for p in inspect.signature(target).parameters if p != "self")
        if found[: len(params)] != params:
            problems.append(f"{label}{found} does not take {params}")
    for name, needle in sources.items():
        method = getattr(type(executor), name, None)
        try:
            source = inspect.getsource(method) if method else ""
        except (OSError, TypeError):
            source = ""
        if needle not in source:
            problems.append(f"Executor.{name} no longer uses {needle.rstrip('(')}")
    return problems


def _installed_version() -> str:
    try:
        from importlib.metadata import version

        return version("aws-durable-execution-sdk-python-testing")
    except Exception:  # noqa: BLE001
        return "unknown"


def check_internals(runner: Any) -> None:
    """Raise RecoveryUnsupported unless every internal used here is present with the expected shape."""
    from aws_durable_execution_sdk_python_testing.execution import Execution

    objects = {"WebRunner": runner, "Executor": getattr(runner, "_executor", None), "Execution": Execution}
    objects["Scheduler"] = getattr(runner, "_scheduler", None)
    problems: list[str] = []
    for owner, members in _REQUIRED.items():
        target = objects[owner]
        if target is None:
            problems.append(f"{owner} is missing (was WebRunner.start() called?)")
            continue
        for name, params in members.items():
            if not hasattr(target, name):
                problems.append(f"{owner}.{name} is missing")
                continue
            if params is None:
                continue
            try:
                found = tuple(p for p in inspect.signature(getattr(target, name)).parameters if p != "self")
            except (TypeError, ValueError):
                problems.append(f"{owner}.{name} has no inspectable signature")
                continue
            if found[: len(params)] != params:
                problems.append(f"{owner}.{name}{found} does not take {params}")
    probe = Execution.__init__.__code__.co_names + tuple(dir(Execution))
    problems += [f"Execution.{name} is missing" for name in _EXECUTION_FIELDS if name not in probe]
    try:
        from aws_durable_execution_sdk_python_testing.worker.checkpoint_tasks import CallableTask  # noqa: F401
    except ImportError:
        problems.append("worker.checkpoint_tasks.CallableTask is missing")
    if problems:
        raise RecoveryUnsupported(
            f"workshop.runner.launcher re-arms timers after a restart using internals of "
            f"aws-durable-execution-sdk-python-testing {PINNED_VERSION}; the installed version "
            f"({_installed_version()}) does not have them: " + "; ".join(problems)
            + ". Install the pinned version (make env) or update workshop/runner/ (recovery.py, heartbeats.py, internals.py)."
        )
    if (installed := _installed_version()) != PINNED_VERSION:
        logger.warning("recovery was written against aws-durable-execution-sdk-python-testing %s, found %s: its internals are present, check its behaviour", PINNED_VERSION, installed)
