"""Lab 6: what the lab runner needs to know beyond its entry in workshop/labs/manifest.py (number, title, service)."""

from __future__ import annotations

import json
from typing import Any

from workshop.labs.manifest import entry_of
from workshop.labs.model import Stage

GOAL = (
    "Read configuration right in a function that waits for days: Powertools Parameters with "
    "caching instead of a raw call in every invocation, the threshold read inside the steps "
    "that use it (fresh after the wait), and the secret's value in no log, trace, metric, "
    "step result or history event."
)

# The lab's function reads parameters of its own, so the live run can use
# 1-second approval timeouts without touching approval-wait's 3-day policy.
THRESHOLD_PARAM = "/workshop/lab-6/threshold"
TIMEOUTS_PARAM = "/workshop/lab-6/timeouts"
THRESHOLD = "500.00"
LIVE_WAITS = {"approval_seconds": 1, "heartbeat_seconds": 0, "escalation_seconds": 1}
ENV_OVERRIDES: dict[str, str | None] = {"APPROVAL_THRESHOLD_PARAM": THRESHOLD_PARAM, "APPROVAL_TIMEOUTS_PARAM": TIMEOUTS_PARAM}

# Above the threshold: the approver is asked (the secret signs the request),
# nobody answers within a second, it escalates once, and the policy decides.
# make lab-N checks the execution it just ran (the live checks read only that run):
# its approval timeouts are waited out once, not twice.
CHECKS_READ_THE_LIVE_RUN = True
PAYLOAD: dict[str, Any] = {
    "request_id": "lab6-expense",
    "employee": "ana",
    "amount": "800.00",
    "currency": "EUR",
    "description": "team offsite",
}

STAGES = [
    Stage(
        1,
        "Powertools Parameters with caching, not a raw call in every invocation",
        "The handler body runs again after every suspension, and read_policy() calls SSM and "
        "Secrets Manager each time. Read through approval_wait.policy instead: policy.threshold(), "
        "policy.wait_policy().to_dict() and policy.notification_token() use Powertools' SSMProvider "
        "and SecretsProvider with max_age=300, so a warm environment reuses what it read.",
    ),
    Stage(
        2,
        "the threshold read inside steps: fixed for the branch, fresh in decide after the wait",
        "Read the threshold and the durations in a step (\"load-policy\"): its checkpointed result "
        "is what every replay sees, so the first `if amount <= threshold` never flips. In the "
        "\"decide\" step read it again with policy.threshold(fresh=True) (force_fetch): after days "
        "of waiting the current value applies, not the cached one.",
    ),
    Stage(
        3,
        "the secret's value in no log, trace, metric, step result or history event",
        "A step's result is checkpointed in the execution history, and @tracer.capture_method "
        "records what a method returns. Keep the token out of both: call notification.sign(request) "
        "inside the notify step (it reads the token and returns only the signature), return no "
        "policy with a token in it, and trace nothing that returns the token.",
    ),
]


def prepare_live(config: Any) -> None:
    """Put the lab's own parameters on the stack (before every live run: a check may change them)."""
    from workshop.config import boto3_client

    ssm = boto3_client("ssm", config)
    ssm.put_parameter(Name=THRESHOLD_PARAM, Value=THRESHOLD, Type="String", Overwrite=True)
    ssm.put_parameter(Name=TIMEOUTS_PARAM, Value=json.dumps(LIVE_WAITS), Type="String", Overwrite=True)


def signal_table(places: dict[str, str], secret: str) -> Any:
    """Each place the checks read (what it holds), and whether the token's value is in it."""
    from workshop.render.tables import table_of

    rows = [[place, "[red]yes: leaked[/]" if secret in text else "[green]no[/]"] for place, text in places.items()]
    return table_of("where the approver-notification token's value appears in this execution", ["place", "token found?"], rows)


def show_signal(console: Any, run: Any) -> None:
    """The decision, and where the notification token's value turned up in this execution."""
    from pathlib import Path

    from workshop.config import StackConfig

    from workshop.labs.model import load_checks_module

    checks = load_checks_module(Path(__file__).parent, "secret_scan")
    live_places = checks.live_places
    stack_secret = checks.stack_secret

    config = StackConfig()
    result = run.result or {}
    console.print(
        f"decision: {result.get('status')} / {result.get('reason')} with threshold {result.get('threshold')} "
        f"(escalated: {result.get('escalated')}) in {len(run.invocations)} invocations"
    )
    secret = stack_secret(config, entry_of(Path(__file__).parent).service)
    console.print(signal_table(live_places(config, run), secret))
    from workshop.labs.show import show_commands  # with the stack's ports when they are not the defaults

    show_commands(console, "Look yourself:", [".venv/bin/workshop", "timeline", run.arn], [".venv/bin/workshop", "traces", "--execution", run.arn])
