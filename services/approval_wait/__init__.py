"""Approval wait: a durable function that decides on an expense, waiting days for a human if it must.

Modules, one idea each (the handler composes them; the others know nothing of durable execution):

- ``handler``       the durable function (``approval_wait.handler.lambda_handler``): which
                    operation runs when, and *where* each parameter and the secret are read
- ``models``        the validated expense payload (Powertools Parser / pydantic)
- ``policy``        the approval policy: threshold (SSM), wait durations (SSM, JSON) and the
                    approver-notification secret (Secrets Manager), with Powertools Parameters
- ``approvals``     the ``approvals`` table the CLI lists and answers from
- ``notification``  signs the approver notification with the secret (the secret never leaves it)
- ``outcome``       the result the function returns
- ``settings``      environment variables, read when used (never at import)
- ``clients``       the one place boto3 clients are created (tests replace it)
- ``observability`` the shared Powertools Logger, Tracer and Metrics

Lab 6 (Parameters) swaps only ``handler``: its starter reads the threshold and the
secret once at the start; the solution is this module.

The labs import only the names in ``__all__`` (``from approval_wait import
APPROVER, parse_expense, policy``); ``clients`` is ``_shared.clients``, named here
so that no lab imports the private package. The names from the handler and
the observability module (Powertools objects, the durable SDK) are imported on
first use, not here: ``import approval_wait`` stays cheap. Why, at length:
``_shared/exports.py``.
"""

from _shared.exports import lazy_exports

__all__ = [
    # the durable function's operation names and pieces (lab 6 rewrites the rest)
    "APPROVAL_CALLBACK", "APPROVER", "DECIDE_STEP", "ESCALATE_STEP", "ESCALATION", "ESCALATION_CALLBACK",
    "LOAD_POLICY_STEP", "NOTIFY_STEP", "STEP_CONFIG",
    "ask", "decide", "decode_answer", "load_policy", "record_outcome",
    "Expense", "parse_expense",
    "ApprovalOutcome", "Reason", "Status",
    "annotate_execution", "logger", "metrics", "tracer",
    "approvals", "clients", "notification", "policy", "settings",  # whole modules
]  # fmt: skip

__getattr__, __dir__ = lazy_exports(globals(), {
    ".handler": [
        "APPROVAL_CALLBACK", "APPROVER", "DECIDE_STEP", "ESCALATE_STEP", "ESCALATION", "ESCALATION_CALLBACK",
        "LOAD_POLICY_STEP", "NOTIFY_STEP", "STEP_CONFIG",
        "ask", "decide", "decode_answer", "load_policy", "record_outcome",
    ],
    ".models": ["Expense", "parse_expense"],
    ".outcome": ["ApprovalOutcome", "Reason", "Status"],
    ".observability": ["annotate_execution", "logger", "metrics", "tracer"],
    "_shared.clients": [],
})  # fmt: skip
