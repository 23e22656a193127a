"""Create in the local emulator what a SAM template declares, and register its functions.

The SAM template is the one description of a stack: `sam deploy` sends it to AWS
unchanged, and this package plays CloudFormation's part locally. It reads the template
(short tags such as ``!Ref`` and long forms such as ``Fn::Sub``), resolves parameters,
has SAM's own translator turn it into CloudFormation (Globals, AutoPublishAlias,
Events, layers: as `sam deploy` expands them), then creates, in dependency order and
idempotently, the resources the emulator can hold: DynamoDB tables, SQS queues, SSM
parameters, Secrets Manager secrets and CloudWatch log groups.

Functions are not created in the emulator (its Lambda cannot run durable functions);
they are written to a JSON registry that the local function host reads: code folder,
handler, resolved environment, durable settings, aliases, layers' paths and SQS event
source mappings, each under the name of the stack (template) it came from.

What the local stack does not run (an AWS-only resource, an API event, a VPC setting,
a layer ARN from elsewhere) gets one warning line naming it; IAM roles are skipped
quietly (nothing to run).

One module a job: template.py (loading, YAML tags, the stack's constants),
parameters.py, sam_transform.py (+ translator_process.py, run by the translator's
environment), unsupported.py, intrinsics.py (the Resolver), order.py (references and
creation order), resources.py (what the resource modules share), tables.py, queues.py,
ssm_secrets.py, log_groups.py, functions.py (registry entries, layers, event source
mappings) and provisioner.py (``provision()`` and ``main()``). The public names are
importable from here; ``python -m workshop.provision`` runs ``main()``.
"""

from workshop.provision.functions import check_visibility, lambda_arn
from workshop.provision.intrinsics import Resolver
from workshop.provision.log_groups import ensure_log_group
from workshop.provision.order import creation_order, references
from workshop.provision.parameters import resolve_parameters
from workshop.provision.provisioner import HANDLERS, REGISTERED_TYPES, ResourceHandler, main, provision
from workshop.provision.resources import Clients, Outcome, local_name
from workshop.provision.sam_transform import Transformed, is_sam, to_cloudformation, with_globals
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
    pseudo_parameters,
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
    "Transformed",
    "check_visibility",
    "creation_order",
    "ensure_log_group",
    "generate_secret_string",
    "is_sam",
    "lambda_arn",
    "load_template",
    "local_name",
    "main",
    "provision",
    "pseudo_parameters",
    "references",
    "resolve_parameters",
    "to_cloudformation",
    "with_globals",
]
