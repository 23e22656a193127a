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
# The runner fires this lab function's timers 20 times sooner, its callback timeouts included
# (nobody answers in the live run): each 1-second timeout after 0.05 s. Nothing else on the
# stack is sped up.
TIME_SCALE = 20
SCALE_CALLBACK_TIMEOUTS = True

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
        "The handler body runs again after every suspension, and each time it calls SSM and "
        "Secrets Manager again, raw, for values that rarely change. Read them through the "
        "service's policy readers instead: they keep what they read in the warm execution "
        "environment for five minutes, so the next invocation reuses it.",
        api=(
            "`policy.threshold()`, `policy.wait_policy().to_dict()` and "
            "`policy.notification_token()` (`from approval_wait import policy`) read through "
            "Powertools' `SSMProvider` and `SecretsProvider` with `max_age=300`: they replace the "
            "three raw calls in `read_policy()`."
        ),
        code="""\
from approval_wait import policy


def read_policy() -> dict[str, Any]:  # its decorator as before
    return {
        "threshold": str(policy.threshold()),
        "waits": policy.wait_policy().to_dict(),
        "token": policy.notification_token(),
    }
""",
    ),
    Stage(
        2,
        "the threshold read inside steps: fixed for the branch, fresh in decide after the wait",
        "Two needs, two reads, both inside steps. The branch (approved at once, or ask) needs a "
        "value that is the same in every invocation: read the threshold and the durations in a "
        "step of their own, whose checkpointed result every replay gets back. The decision "
        "after the wait needs the value as it is now: read it again inside the decide step, "
        "past the cache, instead of the threshold the decide step is given.",
        api=(
            "A step `context.step(run, name=LOAD_POLICY_STEP, config=STEP_CONFIG)` (\"load-policy\") "
            "returning `{\"threshold\": ..., \"waits\": ...}`; the branch uses its result. In "
            "`decide`'s step, `policy.threshold(fresh=True)` (Powertools' `force_fetch`); `decide` "
            "loses its `threshold` parameter."
        ),
        code="""\
def load_policy(context: DurableContext) -> dict[str, Any]:
    \"\"\"Step "load-policy": read once, checkpointed for every replay.\"\"\"

    def run(step: StepContext) -> dict[str, Any]:
        return {
            "threshold": str(policy.threshold()),
            "waits": policy.wait_policy().to_dict(),
        }

    return context.step(run, name=LOAD_POLICY_STEP, config=STEP_CONFIG)


def decide(
    context: DurableContext, expense: Expense,
    answer: dict[str, Any], escalated: bool,
) -> ApprovalOutcome:  # no threshold parameter
    def run(step: StepContext) -> dict[str, Any]:
        threshold = policy.threshold(fresh=True)  # now, after the wait
        ...  # the rest as before


# in lambda_handler
config = read_policy()  # still needed for the token: part 3
loaded = load_policy(context)  # the same value on every replay
threshold = Decimal(loaded["threshold"])
...
outcome = decide(context, expense, answer, escalated)
""",
    ),
    Stage(
        3,
        "the secret's value in no log, trace, metric, step result or history event",
        "A step's result is checkpointed in the execution history, and a traced method's return "
        "value is recorded in its trace: the starter's notify step returns the policy, token "
        "included, and the traced policy reader returns it too. Keep the token inside the one "
        "function that uses it: sign the request inside the step with the helper that reads "
        "the token itself, return only the signature, and let nothing else carry the token.",
        api=(
            "`notification.sign(request)` reads the token (cached) and returns only the HMAC "
            "signature: call it without `token=` in `announce`, and return no `policy` from the "
            "step. Delete `read_policy()` and its `@tracer.capture_method`; `ask` takes "
            "`waits: dict[str, int]`, called with `loaded[\"waits\"]`."
        ),
        code="""\
# in announce (the notify step)
signature = notification.sign(request)  # the token is read in here
...
return {
    "stage": stage,
    "callback_id": callback.callback_id,
    "signature": signature,
}  # no policy, so no token


# read_policy() and its @tracer.capture_method: deleted
def ask(
    context: DurableContext, expense: Expense, stage: str,
    waits: dict[str, int],
) -> dict[str, Any]:
    first = stage == APPROVER
    ...  # the rest as before, without waits = config["waits"]


# in lambda_handler: no config = read_policy()
answer = ask(context, expense, APPROVER, loaded["waits"])
...
answer = ask(context, expense, ESCALATION, loaded["waits"])
""",
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
