"""The in-process history with what AWS records and DurableFunctionTestRunner leaves out.

The in-process runner is the reference, but where aws-durable-execution-sdk-python-testing
1.4.0 is known to differ from Lambda's own model and the live stack corrects it,
the reference is corrected the same way here, so the comparison expects AWS's
shape. Each rule names the gap; the README's "what differs from AWS" lists them.

- StepSucceeded carries RetryDetails on AWS (the model makes it required):
  CurrentAttempt is the attempt that succeeded. The runner only writes
  RetryDetails on retries (and on wait_for_condition's polls, which the SDK
  checkpoints as successes with a next-attempt delay), so a step that
  succeeded has none. Here its CurrentAttempt is the number of times the
  step started, the StepContext.attempt its last run saw.
- CallbackStarted carries Timeout and HeartbeatTimeout on AWS (the
  CallbackOptions the SDK's START checkpoint sent); the runner leaves them
  out. Here they are what the handler configured: its CALLBACK_TIMEOUTS
  (the event's name -> (Timeout, HeartbeatTimeout)), given by the caller.
- CallbackFailed, CallbackTimedOut and ContextFailed errors say
  Truncated: true on the runner even when the history is read with
  execution data (as the reference is, and the live one) and the whole
  error is there; AWS's Truncated means the payload was cut. Here: false.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any


# Events whose error the runner marks truncated although it returns it whole.
WHOLE_ERRORS = ("CallbackFailed", "CallbackTimedOut", "ContextFailed")


def as_on_aws(events: Iterable[Mapping[str, Any]], callback_timeouts: Mapping[str, tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """A copy of the events (read with execution data) with the rules above applied; callback_timeouts: the handler's CALLBACK_TIMEOUTS."""
    attempts: dict[str, int] = {}
    corrected: list[dict[str, Any]] = []
    for event in events:
        event = copy.deepcopy(dict(event))
        op_id = event.get("Id", "")
        if event["EventType"] == "StepStarted":
            attempts[op_id] = attempts.get(op_id, 0) + 1
        if event["EventType"] == "StepSucceeded":
            details = event.setdefault("StepSucceededDetails", {})
            details.setdefault("RetryDetails", {"CurrentAttempt": max(attempts.get(op_id, 1), 1)})
        if event["EventType"] == "CallbackStarted" and event.get("Name") in (callback_timeouts or {}):
            details = event.setdefault("CallbackStartedDetails", {})
            timeout, heartbeat_timeout = (callback_timeouts or {})[event["Name"]]
            details.setdefault("Timeout", timeout)
            details.setdefault("HeartbeatTimeout", heartbeat_timeout)
        if event["EventType"] in WHOLE_ERRORS and "Error" in event.get(f"{event['EventType']}Details", {}):
            event[f"{event['EventType']}Details"]["Error"]["Truncated"] = False
        corrected.append(event)
    return corrected
