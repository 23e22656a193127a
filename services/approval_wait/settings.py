"""Environment variables the approval function reads, each looked up when it is used.

The template (infra/template.yaml, "Approval wait" section) sets them all.
They are stable for the life of a deployed version, so reading them in
replayed code returns the same value every time. The *values* that may change
while an execution waits (the threshold, the durations, the secret) are not
here: they live in SSM and Secrets Manager and are read inside steps
(``approval_wait.policy``).
"""

from __future__ import annotations

from _shared.settings import MissingSettingError  # noqa: F401 - raised by every setting below; callers catch it from here
from _shared.settings import required as _required


def approvals_table() -> str:
    """DynamoDB table of approval requests: partition key ``request_id`` (S)."""
    return _required("APPROVALS_TABLE")


def threshold_param() -> str:
    """SSM parameter holding the approval threshold (a decimal amount), e.g. /workshop/approval/threshold."""
    return _required("APPROVAL_THRESHOLD_PARAM")


def timeouts_param() -> str:
    """SSM parameter holding the wait durations as JSON (see ``policy.WaitPolicy``)."""
    return _required("APPROVAL_TIMEOUTS_PARAM")


def notification_secret() -> str:
    """Secrets Manager secret (name or ARN): the token that signs approver notifications."""
    return _required("APPROVER_SECRET")
