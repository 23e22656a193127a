"""Stage 1: Powertools Parameters with caching, not a raw call in every invocation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_durations_and_secret_are_fetched_once_for_two_executions(two_expenses):
    r = two_expenses
    every_invocation = r.timeouts >= r.invocations or r.secret >= r.invocations
    assert r.timeouts <= 1 and r.secret <= 1, (
        f"expected the wait durations and the notification token fetched once for {r.executions} executions in one "
        f"warm environment (Powertools Parameters caches them for max_age seconds); saw {r.timeouts} GetParameter "
        f"calls for the durations and {r.secret} GetSecretValue calls in {r.invocations} invocations"
        + (" — a raw call in every invocation: the handler body runs again after every suspension" if every_invocation else "")
    )


def test_threshold_is_not_fetched_in_every_invocation(two_expenses):
    r = two_expenses
    most = 2 * r.executions - 1  # once cached as the first execution starts, once fresh per decision
    assert r.threshold <= most, (
        f"expected the threshold fetched at most {most} times for {r.executions} executions (cached when an execution "
        f"starts, fresh only where a decision needs it); saw {r.threshold} GetParameter calls in {r.invocations} invocations"
    )
