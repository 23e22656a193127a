"""The approval policy, read with Powertools Parameters: threshold, wait durations, notification secret.

Where the values live (names from ``settings``, values from infra/template.yaml):

- threshold: SSM String parameter, a decimal amount ("500.00"). Amounts up to
  it are approved at once; above it a person decides.
- wait durations: SSM String parameter holding JSON
  ``{"approval_seconds": 259200, "heartbeat_seconds": 86400, "escalation_seconds": 86400}``.
- notification token: a Secrets Manager secret (``notification`` uses it).

Why functions and not values read at import: these are read *inside the steps
that use them* (see ``handler``). A durable execution may wait for days; a
value read at import or at the top of the handler would be days old by the
time it is applied, and re-read on every replay (the handler body re-runs
after every suspension). Inside a step the value is read once, when the
workflow gets there, and checkpointed, so replays see the same value.

Caching (``max_age``): a warm execution environment reuses a value for
``POLICY_MAX_AGE`` seconds, which saves calls when many executions start
close together. The deciding step passes ``fresh=True`` (``force_fetch``): the
threshold applied after a wait must be the current one, not a cached one.

The secret is never returned to the handler in a form that could be
checkpointed: ``notification_token`` is only called by ``notification.sign``,
inside a step whose result is a signature.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


from _shared import parameters

from approval_wait import settings

# How long a warm execution environment may reuse a parameter or the secret (seconds).
POLICY_MAX_AGE = 300

class PolicyError(ValueError):
    """A policy parameter is missing or malformed (the step fails and is retried)."""


def threshold(fresh: bool = False) -> Decimal:
    """The approval threshold. ``fresh=True`` bypasses the cache (use it after a wait)."""
    name = settings.threshold_param()
    raw = parameters.ssm().get(name, max_age=POLICY_MAX_AGE, force_fetch=fresh)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise PolicyError(f"SSM parameter {name} must be an amount, got {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise PolicyError(f"SSM parameter {name} must be a non-negative amount, got {raw!r}")
    return value.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class WaitPolicy:
    """How long a request may wait, in seconds (0 = no heartbeat timeout).

    - ``approval_seconds``: the approver's callback timeout (3 days by default).
    - ``heartbeat_seconds``: the longest silence between heartbeats from the
      approver's side (1 day by default); a silence that long escalates early.
    - ``escalation_seconds``: the escalation callback's own timeout (1 day).
    """

    approval_seconds: int
    heartbeat_seconds: int
    escalation_seconds: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def wait_policy() -> WaitPolicy:
    """The wait durations from the JSON SSM parameter, validated."""
    name = settings.timeouts_param()
    raw: Any = parameters.ssm().get(name, max_age=POLICY_MAX_AGE)
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
        policy = WaitPolicy(
            approval_seconds=int(data["approval_seconds"]),
            heartbeat_seconds=int(data.get("heartbeat_seconds", 0)),
            escalation_seconds=int(data["escalation_seconds"]),
        )
    except (ValueError, TypeError, KeyError) as error:
        raise PolicyError(f"SSM parameter {name} must be JSON with approval_seconds and escalation_seconds: {error}") from None
    if policy.approval_seconds < 1 or policy.escalation_seconds < 1 or policy.heartbeat_seconds < 0:
        raise PolicyError(f"SSM parameter {name}: timeouts must be at least 1 second, heartbeat 0 (off) or more")
    return policy


def notification_token() -> str:
    """The approver-notification token. Only ``notification.sign`` may call this."""
    value = parameters.secrets().get(settings.notification_secret(), max_age=POLICY_MAX_AGE)
    if isinstance(value, bytes):
        value = value.decode()
    if not value:
        raise PolicyError("the approver-notification secret is empty")
    return str(value)
