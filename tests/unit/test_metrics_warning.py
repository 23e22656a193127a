"""The reference services silence exactly one Powertools warning: an invocation that flushes no metric."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Metrics


def test_only_the_empty_flush_warning_is_silenced() -> None:
    import order_saga.observability  # noqa: F401 - importing a service installs the filter

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from _shared.observability import expect_invocations_without_metrics

        expect_invocations_without_metrics()  # what the services do at import (catch_warnings reset the filters)
        Metrics(namespace="Test", service="t").flush_metrics()  # a replayed invocation: no metric added
        warnings.warn("some other Powertools warning", UserWarning, stacklevel=1)
    messages = [str(w.message) for w in caught]
    assert messages == ["some other Powertools warning"], messages
