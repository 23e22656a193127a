"""Deploy another SAM template into the running local stack, as `sam deploy` deploys it to AWS.

    workshop deploy path/to/template.yaml [--stack-name NAME] [--parameter-overrides Key=Value ...]
    workshop stacks
    workshop delete NAME [--keep-data]

A deployed template's resources are created in the emulator and its functions
are registered with the function host and the runner under the stack's name;
`make up` provisions infra/template.yaml as always, then deploys every
remembered template again from its file (``restore``). One module a job:
operations.py (deploy, delete, list, restore), parameters_store.py (the
overrides each stack was deployed with), teardown.py (removing a stack's
emulator resources).
"""

from workshop.deploy.operations import (
    DeployedStack,
    DeployError,
    StackSummary,
    default_stack_name,
    delete,
    deploy,
    list_stacks,
    restore,
)

__all__ = [
    "DeployError",
    "DeployedStack",
    "StackSummary",
    "default_stack_name",
    "delete",
    "deploy",
    "list_stacks",
    "restore",
]
