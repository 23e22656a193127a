"""Create in the local emulator what infra/template.yaml declares, and write the function registry.

The SAM template is the one description of the stack: `sam deploy` sends it to AWS
unchanged, and this package plays CloudFormation's part locally. It reads the template
(short tags such as ``!Ref`` and long forms such as ``Fn::Sub``), resolves parameters
and pseudo parameters, applies SAM ``Globals``, then creates, in dependency order and
idempotently, the resources the emulator can hold: DynamoDB tables, SQS queues, SSM
parameters, Secrets Manager secrets and CloudWatch log groups.

Functions are not created in the emulator (its Lambda cannot run durable functions);
they are written to a JSON registry that the local function host reads: code folder,
handler, resolved environment, durable settings, aliases and SQS event source mappings.

Resource types the emulator has no use for (IAM roles, alarms, ...) are skipped with a
one-line notice, so the template can carry AWS-only resources.

One module a job: template.py (loading, YAML tags, the stack's constants),
parameters.py, intrinsics.py (the Resolver), sam_globals.py, order.py (references and
creation order), resources.py (what the resource modules share), tables.py, queues.py,
ssm_secrets.py, log_groups.py, functions.py (registry entries and event source
mappings) and provisioner.py (``provision()`` and ``main()``). The public names are
importable from here; ``python -m workshop.provision`` runs ``main()``.
"""

from workshop.provision.functions import check_visibility
from workshop.provision.intrinsics import Resolver
from workshop.provision.log_groups import ensure_log_group
from workshop.provision.order import creation_order, references
from workshop.provision.parameters import resolve_parameters
from workshop.provision.provisioner import HANDLERS, REGISTERED_TYPES, ResourceHandler, main, provision
from workshop.provision.resources import Clients, Outcome, lambda_arn, local_name
from workshop.provision.sam_globals import apply_function_globals, merge_globals
from workshop.provision.ssm_secrets import generate_secret_string
from workshop.provision.template import (
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    NO_VALUE,
    PARTITION,
    PSEUDO_PARAMETERS,
    SERVERLESS_FUNCTION,
    STACK_NAME,
    TemplateError,
    TemplateLoader,
    load_template,
)

__all__ = [
    "DEFAULT_MEMORY",
    "DEFAULT_TIMEOUT",
    "HANDLERS",
    "NO_VALUE",
    "PARTITION",
    "PSEUDO_PARAMETERS",
    "REGISTERED_TYPES",
    "SERVERLESS_FUNCTION",
    "STACK_NAME",
    "Clients",
    "Outcome",
    "ResourceHandler",
    "Resolver",
    "TemplateError",
    "TemplateLoader",
    "apply_function_globals",
    "check_visibility",
    "creation_order",
    "ensure_log_group",
    "generate_secret_string",
    "lambda_arn",
    "load_template",
    "local_name",
    "main",
    "merge_globals",
    "provision",
    "references",
    "resolve_parameters",
]
