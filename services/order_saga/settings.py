"""Environment variables the functions read, each looked up when it is used.

Reading at call time rather than import time keeps each function independent
of the variables only another function gets (the payment function has no
INVENTORY_TABLE, the warehouse has no tables at all) and lets tests set them
per test. The template (infra/template.yaml) sets them all.

Replay safety: these values are stable for the life of a deployed function
version, so reading them in replayed code returns the same value every time.
"""

from __future__ import annotations

import os

from _shared.settings import MissingSettingError  # noqa: F401 - raised by every setting below; callers catch it from here
from _shared.settings import required as _required


def inventory_table() -> str:
    """DynamoDB table of stock levels: partition key ``sku`` (S), attribute ``available`` (N)."""
    return _required("INVENTORY_TABLE")


def payments_table() -> str:
    """DynamoDB table of payments: partition key ``order_id`` (S)."""
    return _required("PAYMENTS_TABLE")


def payment_function() -> str:
    """Name (or ARN) of the payment function the saga calls with ``context.invoke``."""
    return _required("PAYMENT_FUNCTION")


def warehouse_function() -> str:
    """Name (or ARN) of the warehouse function the saga hands orders to."""
    return _required("WAREHOUSE_FUNCTION")


def warehouse_timeout_param() -> str:
    """Name of the SSM parameter holding the warehouse callback timeout, in seconds."""
    return _required("WAREHOUSE_TIMEOUT_PARAM")


def warehouse_suspension_wait_seconds() -> float:
    """How long the simulated warehouse waits to see the saga suspended on its callback.

    Optional: unset or 0 answers at once (the in-process tests and labs, whose
    fakes have no history to read). The template sets it below the warehouse
    function's timeout; see ``order_saga.suspension`` for why it waits.
    """
    raw = os.environ.get("WAREHOUSE_SUSPENSION_WAIT_SECONDS", "").strip()
    try:
        seconds = float(raw) if raw else 0.0
    except ValueError:
        raise MissingSettingError(
            f"environment variable WAREHOUSE_SUSPENSION_WAIT_SECONDS must be a number of seconds, got {raw!r}"
        ) from None
    return max(seconds, 0.0)


# The template leaves it unset: the payment back-offs double up to 30 s, as a real saga's would.
PAYMENT_RETRY_MAX_DELAY_DEFAULT_S = 30


def payment_retry_max_delay_s() -> int:
    """Longest back-off between two charge attempts, in whole seconds (PAYMENT_RETRY_MAX_DELAY_S).

    The labs set 1 (the SDK's shortest durable wait): their order still fails
    twice and retries after a durable wait, in as many invocations, but the
    learner waits 2 s for the back-offs instead of 3 s on every run.
    """
    raw = os.environ.get("PAYMENT_RETRY_MAX_DELAY_S", "")
    try:
        return max(1, int(raw)) if raw.strip() else PAYMENT_RETRY_MAX_DELAY_DEFAULT_S
    except ValueError:
        raise MissingSettingError(f"PAYMENT_RETRY_MAX_DELAY_S={raw!r} is not a whole number of seconds") from None
