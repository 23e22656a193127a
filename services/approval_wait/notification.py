"""The approver notification, signed with the secret token.

Why a signature: the approver's tool (a webhook, a chat bot, or locally the
``workshop approvals`` CLI) must be able to tell a genuine request from a forged
one. The token is the shared key of an HMAC-SHA256 over the notification.

Why the secret stays in here: ``sign`` reads the token, uses it and returns
only the signature. Whatever calls it inside a step checkpoints that result,
so the execution history, logs, traces and metrics can only ever hold the
signature, from which the token cannot be recovered. Never return, log or
annotate the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from approval_wait import policy


def canonical(notification: dict[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, so both sides compute the same thing."""
    return json.dumps(notification, sort_keys=True, separators=(",", ":")).encode()


def sign(notification: dict[str, Any], token: str | None = None) -> str:
    """``sha256=<hex>`` of the notification, keyed with the secret (read here unless given)."""
    key = (token if token is not None else policy.notification_token()).encode()
    return "sha256=" + hmac.new(key, canonical(notification), hashlib.sha256).hexdigest()


def verify(notification: dict[str, Any], signature: str, token: str) -> bool:
    """What the approver's side does with the signature (constant-time comparison)."""
    return hmac.compare_digest(sign(notification, token), signature)
