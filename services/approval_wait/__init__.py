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
"""
