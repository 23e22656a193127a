"""Stage 3: the secret's value in no log, trace, metric, step result or history event."""

from __future__ import annotations

import json

import pytest

from secret_scan import live_places, stack_secret

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

NOTIFY = "notify-approver"


def _leaks(places: dict[str, str], secret: str) -> list[str]:
    return [place for place, text in places.items() if secret in text]


def test_secret_in_no_log_metric_step_result_or_history(raised_while_waiting):
    s = raised_while_waiting
    f = s.finished
    assert NOTIFY in f.operations and "sha256=" in f.history, (
        f"expected the approver to be asked (a \"{NOTIFY}\" step whose signature sha256=... is in the history); "
        f"saw operations {f.operations}"
    )
    places = {
        "log lines": "\n".join(line for line in s.lines if '"_aws"' not in line),
        "metrics (EMF records)": "\n".join(line for line in s.lines if '"_aws"' in line),
        "step results": f.step_results,
        "execution history (with execution data)": f.history,
        "execution result": json.dumps(f.result),
        "approvals table": json.dumps(s.table_item),
    }
    leaks = _leaks(places, s.token)
    assert not leaks, (
        f"expected the notification token in none of {', '.join(places)}; saw it in: {', '.join(leaks)}"
        + (" — a step's result is checkpointed: whatever it returns is stored in the history and replayed"
           if "step results" in leaks else "")
    )


@pytest.mark.live
def test_secret_nowhere_on_the_stack(live_run, lab):
    from workshop.config import StackConfig

    config = StackConfig()
    assert live_run.status == "SUCCEEDED", f"the live execution ended {live_run.status}: {live_run.error}"
    places = live_places(config, live_run)
    history = places["execution history (step results, callbacks, input, result)"]
    assert "sha256=" in history, (
        "expected the live expense to ask the approver (a signature sha256=... in the history); "
        f"saw the result {live_run.result}"
    )
    assert places["X-Ray segments"] != "[]", f"expected X-Ray segments of the execution's invocations in the sink; saw none for {live_run.arn}"
    leaks = _leaks(places, stack_secret(config, lab.base_function))
    assert not leaks, (
        f"expected the stack's notification token (Secrets Manager) in none of {', '.join(places)} of {live_run.arn}; "
        f"saw it in: {', '.join(leaks)}"
        + (" — @tracer.capture_method records what a method returns as trace metadata" if "X-Ray segments" in leaks else "")
    )
