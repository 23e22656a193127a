"""Histories and execution ARNs as AWS gives them, fixed in dex-local-runner at start.

Five differences between the runner (aws-durable-execution-sdk-python-testing
1.4.0) and Lambda's own model (botocore's lambda 2015-03-31 service-2.json,
whose durable operations live under /2025-12-01/), each found by
workshop.inspect.shapes against a live history:

1. StepSucceeded has no RetryDetails. The model makes it required, and on AWS
   a step that succeeded on attempt N says CurrentAttempt = N. The runner
   builds the event from the step's final operation but only passes the
   checkpoint update (the source of its retry details) for RETRY and FAIL.
   The step's operation counts its attempts (StepDetails.Attempt: every
   RETRY, SUCCEED and FAIL adds one), so after SUCCEED it is N: that is the
   value given, the same number the SDK showed the step as StepContext.attempt.
2. InvocationCompleted has no InvocationCompletedDetails (StartTimestamp,
   EndTimestamp, RequestId): Event.from_event_with_id, which renumbers the
   events, copies every details field but that one. Renumbering here copies
   the event whole (dataclasses.replace), so no field can be lost again.
3. An execution's ARN is `<uuid>/<uuid>`. On AWS it is
   arn:aws:lambda:<region>:<account>:function:<name>:<version>/durable-execution/<execution name>/<id>
   (the model's DurableExecutionArn pattern; <version> is $LATEST or a number,
   never an alias). The runner mints it here, in that form, so the ARN is
   the same everywhere without a mapping: in the store (a restart loses
   nothing), in the invocation event a worker's SDK reads and in the
   checkpoints it sends back, in callback ids, in the CLI and in the
   `executionArn` the SDK's logger writes. <id> is the invocation id, as
   before: the SDK takes the last `/` segment of the ARN as the id of the
   EXECUTION operation (aws_durable_execution_sdk_python.state), which is why
   a stateless mapping of the old ARN at the host could not work: its first
   uuid is random and appears nowhere else. The function host resolves an
   alias to its version before it starts an execution (workshop.host.names).
   Executions stored before this change keep their old ARNs and still work.
4. CallbackStarted has no Timeout / HeartbeatTimeout, though the SDK's START
   checkpoint sent them (CallbackOptions) and AWS's CallbackStartedDetails
   carries them. The runner's event builder reads them from the checkpoint
   update, but the history passes it that update only for RETRY, FAIL and a
   chained invoke's START. While a history is built, the builder here is
   given the callback's own START update (from the execution's stored
   updates, read at most once per history and only if it has a callback), and
   maps it as the runner's builder does: the seconds the SDK sent, 0 for none.
5. CallbackFailed, CallbackTimedOut and ContextFailed say Error.Truncated:
   true even with IncludeExecutionData: their builders call
   EventError.from_details without `include`, so it takes "excluded". The
   whole error is returned either way (the runner never cuts one), so with
   execution data it is not truncated: false, as StepFailed and the chained
   invoke errors already say. Without execution data it stays true, the
   runner's answer for every payload it leaves out.

install_aws_shapes() checks every internal it replaces and raises
ShapesUnsupported (the launcher exits 2 with the message) if the installed
runner differs, rather than serving histories that silently differ.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from workshop.runner.internals import PINNED_VERSION, RecoveryUnsupported, _installed_version

DEFAULT_ACCOUNT = "000000000000"  # workshop.config.ACCOUNT_ID; a child execution's input may carry none
_NAME = re.compile(r"[a-zA-Z0-9_-]+")
# The Event builders whose error ignores IncludeExecutionData (5 above) -> the details field holding it.
_ERROR_BUILDERS = {
    "create_callback_event_failed": "callback_failed_details",
    "create_callback_event_timed_out": "callback_timed_out_details",
    "create_context_event_failed": "context_failed_details",
}


class ShapesUnsupported(RecoveryUnsupported):
    """The installed runner lacks an internal these fixes replace."""


def bare_function_name(function_name: str) -> str:
    """`name`, `name:qualifier` or a function ARN -> `name` (a chained invoke may name its target any of these ways)."""
    if function_name.startswith("arn:"):
        parts = function_name.split(":")
        return parts[6] if len(parts) > 6 else function_name
    return function_name.partition(":")[0]


def execution_arn(region: str, account: str | None, function_name: str, version: str, execution_name: str, execution_id: str) -> str:
    """The durable execution ARN, in the API reference's form."""
    return (
        f"arn:aws:lambda:{region}:{account or DEFAULT_ACCOUNT}:function:{bare_function_name(function_name)}:{version}"
        f"/durable-execution/{execution_name}/{execution_id}"
    )


def split_execution_arn(arn: str) -> dict[str, str] | None:
    """The parts of an AWS-shaped execution ARN (region, account, function, version, name, id); None for any other string."""
    match = re.fullmatch(
        r"arn:[a-zA-Z0-9-]+:lambda:(?P<region>[a-zA-Z0-9-]+):(?P<account>\d{12}):function:(?P<function>[a-zA-Z0-9_-]+)"
        r":(?P<version>\$LATEST(?:\.PUBLISHED)?|[0-9]+)/durable-execution/(?P<name>[a-zA-Z0-9_-]+)/(?P<id>[a-zA-Z0-9_-]+)",
        arn,
    )
    return match.groupdict() if match else None


class _CallbackStarts:
    """The START updates of one execution's callbacks, by operation id: read from the store once, when first asked."""

    def __init__(self, executor: Any, execution_arn: str) -> None:
        self._executor = executor
        self._arn = execution_arn
        self._starts: dict[str, Any] | None = None

    def get(self, operation_id: str) -> Any:
        if self._starts is None:
            from aws_durable_execution_sdk_python.lambda_service import OperationAction, OperationType

            updates = self._executor.get_execution(self._arn).updates
            self._starts = {u.operation_id: u for u in updates if u.operation_type == OperationType.CALLBACK and u.action == OperationAction.START}
        return self._starts.get(operation_id)


# Set while Executor.get_execution_history builds a history (per thread: the web server serves each request on its own).
_HISTORY: ContextVar[_CallbackStarts | None] = ContextVar("workshop_history_callback_starts", default=None)


def _check(runner: Any) -> None:
    from aws_durable_execution_sdk_python.lambda_service import CallbackOptions, OperationUpdate
    from aws_durable_execution_sdk_python_testing import model
    from aws_durable_execution_sdk_python_testing.execution import Execution
    from aws_durable_execution_sdk_python_testing.executor import Executor

    problems: list[str] = []
    expected = {
        (Execution, "new"): ("input",),
        (model.Event, "create_step_event_succeeded"): ("context",),
        (model.Event, "from_event_with_id"): ("event", "event_id"),
        (model, "executed_version"): ("qualifier",),
        (model.Event, "create_callback_event_started"): ("context",),
        **{(model.Event, name): ("context",) for name in _ERROR_BUILDERS},
        (Executor, "get_execution_history"): ("execution_arn", "include_execution_data"),
        (Executor, "get_execution"): ("execution_arn",),
    }
    for (owner, name), params in expected.items():
        member = getattr(owner, name, None)
        label = f"{getattr(owner, '__name__', owner)}.{name}"
        if member is None:
            problems.append(f"{label} is missing")
            continue
        found = tuple(p for p in inspect.signature(member).parameters if p not in ("self", "cls"))
        if found[: len(params)] != params:
            problems.append(f"{label}{found} does not take {params}")
    for cls, fields in ((model.StepSucceededDetails, ("retry_details",)), (model.Event, ("event_id", "step_succeeded_details", "invocation_completed_details")),
                        (model.RetryDetails, ("current_attempt",)), (model.StartDurableExecutionInput, ("account_id", "function_name", "function_qualifier", "execution_name", "invocation_id")),
                        (model.Event, ("operation_id", "callback_started_details", *_ERROR_BUILDERS.values())), (model.CallbackStartedDetails, ("timeout", "heartbeat_timeout")),
                        (model.EventCreationContext, ("operation", "operation_update", "include_execution_data")), (model.EventError, ("payload", "truncated")),
                        (model.CallbackFailedDetails, ("error",)), (model.CallbackTimedOutDetails, ("error",)), (model.ContextFailedDetails, ("error",)),
                        (OperationUpdate, ("operation_id", "operation_type", "action", "callback_options")), (CallbackOptions, ("timeout_seconds", "heartbeat_timeout_seconds"))):  # fmt: skip
        names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        problems += [f"{cls.__name__}.{field} is missing" for field in fields if field not in names]
    if "updates" not in Execution.__init__.__code__.co_names:
        problems.append("Execution.updates is missing")
    if not isinstance(getattr(getattr(runner, "_executor", None), "_region", None), str):
        problems.append("Executor._region is missing")
    if problems:
        raise ShapesUnsupported(
            f"workshop.runner.aws_shapes fixes histories and ARNs in aws-durable-execution-sdk-python-testing {PINNED_VERSION}; "
            f"the installed version ({_installed_version()}) differs: " + "; ".join(problems)
            + ". Install the pinned version (make env) or update workshop/runner/aws_shapes.py."
        )


def install_aws_shapes(runner: Any) -> Callable[[], None]:
    """Replace the runner internals above (1-5); returns what puts the originals back (for tests).

    Process-wide: in the launcher the runner is the only user of its process.
    A unit test that installs this in-process must call the returned undo.
    """
    _check(runner)
    from aws_durable_execution_sdk_python_testing import model
    from aws_durable_execution_sdk_python_testing.execution import Execution
    from aws_durable_execution_sdk_python_testing.executor import Executor

    if getattr(Execution.new, "_workshop_aws_arn", False):
        return lambda: None  # installed already (a second WebRunner in one process): the first install's undo restores
    region: str = runner._executor._region
    saved = {
        (Execution, "new"): Execution.__dict__["new"],
        (model.Event, "create_step_event_succeeded"): model.Event.__dict__["create_step_event_succeeded"],
        (model.Event, "from_event_with_id"): model.Event.__dict__["from_event_with_id"],
        (model.Event, "create_callback_event_started"): model.Event.__dict__["create_callback_event_started"],
        **{(model.Event, name): model.Event.__dict__[name] for name in _ERROR_BUILDERS},
        (Executor, "get_execution_history"): Executor.__dict__["get_execution_history"],
    }
    original_new = Execution.new
    original_succeeded = model.Event.create_step_event_succeeded.__func__
    original_callback_started = model.Event.create_callback_event_started.__func__
    original_history = Executor.get_execution_history

    def new(input: Any) -> Any:  # noqa: A002 - the runner's own parameter name
        execution = original_new(input)
        name = input.execution_name if _NAME.fullmatch(input.execution_name or "") else str(uuid.uuid4())
        execution_id = execution.durable_execution_arn.rsplit("/", 1)[-1]  # the invocation id, the EXECUTION operation's id
        version = model.executed_version(input.function_qualifier)
        execution.durable_execution_arn = execution_arn(region, input.account_id, input.function_name, version, name, execution_id)
        return execution

    new._workshop_aws_arn = True  # type: ignore[attr-defined]

    def create_step_event_succeeded(cls: type, context: Any) -> Any:
        event = original_succeeded(cls, context)
        details = event.step_succeeded_details
        if details is not None and details.retry_details is None:
            step = context.operation.step_details
            attempt = max(step.attempt if step is not None else 1, 1)
            details = dataclasses.replace(details, retry_details=model.RetryDetails(current_attempt=attempt))
            event = dataclasses.replace(event, step_succeeded_details=details)
        return event

    def from_event_with_id(cls: type, event: Any, event_id: int) -> Any:
        return dataclasses.replace(event, event_id=event_id)

    def get_execution_history(self: Any, execution_arn: str, *args: Any, **kwargs: Any) -> Any:
        token = _HISTORY.set(_CallbackStarts(self, execution_arn))
        try:
            return original_history(self, execution_arn, *args, **kwargs)
        finally:
            _HISTORY.reset(token)

    def create_callback_event_started(cls: type, context: Any) -> Any:
        starts = _HISTORY.get()
        if context.operation_update is None and starts is not None:
            update = starts.get(context.operation.operation_id)
            if update is not None:
                context = dataclasses.replace(context, operation_update=update)
        return original_callback_started(cls, context)

    def whole_error(builder: Any, field: str) -> Callable[[type, Any], Any]:
        def build(cls: type, context: Any) -> Any:
            event = builder(cls, context)
            details = getattr(event, field)
            if details is not None and details.error is not None:
                error = dataclasses.replace(details.error, truncated=not context.include_execution_data)
                event = dataclasses.replace(event, **{field: dataclasses.replace(details, error=error)})
            return event

        return build

    Execution.new = staticmethod(new)  # type: ignore[method-assign]
    model.Event.create_step_event_succeeded = classmethod(create_step_event_succeeded)  # type: ignore[method-assign,assignment]
    model.Event.from_event_with_id = classmethod(from_event_with_id)  # type: ignore[method-assign,assignment]
    Executor.get_execution_history = get_execution_history  # type: ignore[method-assign]
    model.Event.create_callback_event_started = classmethod(create_callback_event_started)  # type: ignore[method-assign,assignment]
    for name, field in _ERROR_BUILDERS.items():
        setattr(model.Event, name, classmethod(whole_error(getattr(model.Event, name).__func__, field)))

    def undo() -> None:
        for (owner, name), original in saved.items():
            setattr(owner, name, original)

    return undo
