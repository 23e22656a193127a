"""``provision()``: one template's resources in the emulator, in order, then its functions in the registry.

The orchestration only: the template becomes CloudFormation (SAM's translator,
workshop.provision.sam_transform), each resource type the emulator holds has its
handler (``HANDLERS``), the Lambda resources become registry entries
(workshop.provision.functions), and the stack's part of the registry is replaced
through ``workshop.registry`` (other stacks' functions stay). ``main()`` is what
``python -m workshop.provision`` runs.

Order of the work, so that a template that cannot run registers nothing:
load, translate, check every function (local code, handler module, runtime,
name clashes with other stacks), then create the emulator's resources, then
write the registry in one locked step.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workshop import registry as function_registry
from workshop.config import TEMPLATE_PATH, StackConfig
from workshop.provision.functions import (
    LAMBDA_ALIAS,
    LAMBDA_FUNCTION,
    LAMBDA_LAYER,
    LAMBDA_MAPPING,
    LAMBDA_TYPES,
    LAMBDA_VERSION,
    LOCAL_VERSION,
    Warn,
    check_handler,
    check_visibility,
    code_folder,
    function_entry,
    function_name,
    function_name_from,
    is_python,
    lambda_arn,
    layer_arn,
    layer_path,
    mapping_uuid,
)
from workshop.provision.intrinsics import Resolver, _truthy
from workshop.provision.log_groups import _log_group, ensure_log_group
from workshop.provision.order import creation_order
from workshop.provision.parameters import _load_local_parameters, resolve_parameters
from workshop.provision.queues import _queue
from workshop.provision.resources import Clients, Outcome
from workshop.provision.sam_transform import Transformed, to_cloudformation
from workshop.provision.ssm_secrets import _secret, _ssm_parameter
from workshop.provision.tables import _table
from workshop.provision.template import STACK_NAME, TemplateError, load_template, pseudo_parameters
from workshop.provision.unsupported import sam_level_warnings

# One logger for the whole package (tests and logging setups address "workshop.provision").
log = logging.getLogger("workshop.provision")


ResourceHandler = Callable[[Clients, str, dict[str, Any]], Outcome]
HANDLERS: dict[str, ResourceHandler] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SSM::Parameter": _ssm_parameter,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Logs::LogGroup": _log_group,
}
# The property that names each emulator resource, when the template names it (else <stack>-<LogicalId>).
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}
# Handled apart: functions go to the registry, the others are read with them.
REGISTERED_TYPES = LAMBDA_TYPES


def provision(
    config: StackConfig,
    template_path: Path = TEMPLATE_PATH,
    parameter_overrides: dict[str, Any] | None = None,
    stack_name: str = STACK_NAME,
    warn: Warn | None = None,
) -> dict[str, Any]:
    """Create the template's resources in the emulator (idempotent) and register its functions
    as stack ``stack_name`` in ``config.registry_path``. Returns this stack's functions and mappings.

    Parameter values: template defaults, then ``local-parameters.json`` beside the
    template, then ``parameter_overrides``. ``warn`` receives one line per thing the
    template asks for that does not run locally (default: a warning log line).
    """
    warn = warn or (lambda line: log.warning("warning: %s", line))
    template_path = Path(template_path).resolve()
    template = load_template(template_path)
    parameters = resolve_parameters(template, _load_local_parameters(template_path), parameter_overrides)
    pseudo = pseudo_parameters(stack_name)
    for line in sam_level_warnings(template):
        warn(line)
    transformed = to_cloudformation(template, {**parameters, **pseudo})
    cfn = transformed.template
    resources: dict[str, dict[str, Any]] = cfn["Resources"]
    resolver = Resolver(parameters=parameters, mappings=cfn.get("Mappings") or {}, pseudo=pseudo)
    resolver.evaluate_conditions(cfn.get("Conditions") or {})
    clients = Clients(config, stack_name)
    declared = set(template["Resources"])  # what the author wrote, not what the translator added

    active = _active_resources(resources, resolver, declared, warn)
    functions_by_id = _name_lambda_resources(resources, active, resolver, clients)
    code_dirs = _check_functions(resources, functions_by_id, resolver, transformed, template_path.parent, warn)
    current = function_registry.load_or_empty(config)
    try:
        function_registry.check_function_names(current, stack_name, [functions_by_id[lid] for lid in code_dirs])
    except function_registry.StackClash as clash:
        raise TemplateError(str(clash)) from None

    created = _create_emulator_resources(resources, active, resolver, clients, current, stack_name)
    layer_paths = _layers(resources, active, resolver, transformed, template_path.parent, warn)

    functions: dict[str, dict[str, Any]] = {}
    for logical_id, code_dir in code_dirs.items():
        name = functions_by_id[logical_id]
        props = resolver.resolve(resources[logical_id].get("Properties") or {})
        functions[name] = entry = function_entry(logical_id, props, resolver, code_dir, name, layer_paths, warn)
        # as the function host sees them (the compose stack mounts the repository elsewhere)
        entry["code_dir"] = config.stack_path(entry["code_dir"])
        if "python_path" in entry:
            entry["python_path"] = [config.stack_path(folder) for folder in entry["python_path"]]
        outcome = ensure_log_group(clients, entry["log_group"])
        log.info("%-8s %-28s %-30s %s", outcome.status, "AWS::Logs::LogGroup", logical_id, entry["log_group"])
        log.info("%-8s %-28s %-30s %s", "local", LAMBDA_FUNCTION, logical_id, name)
    for logical_id in active:
        if resources[logical_id]["Type"] == LAMBDA_ALIAS:
            props = resolver.resolve(resources[logical_id].get("Properties") or {})
            target = functions.get(function_name_from(str(props["FunctionName"])))
            if target is not None:
                target["aliases"].append(str(props["Name"]))
    mappings = [
        mapping
        for logical_id in active
        if resources[logical_id]["Type"] == LAMBDA_MAPPING
        for mapping in [_mapping(logical_id, resources[logical_id], resolver, clients, functions, created, warn)]
        if mapping is not None
    ]

    # Parameter values are not recorded here: NoEcho ones are secrets, and the function host reads this file.
    record = {"template": str(template_path), "functions": sorted(functions), "resources": created}
    try:
        function_registry.replace_stack(config, stack_name, functions, mappings, record)
    except function_registry.StackClash as clash:
        raise TemplateError(str(clash)) from None
    return {"functions": functions, "event_source_mappings": mappings}


def _active_resources(resources: dict[str, Any], resolver: Resolver, declared: set[str], warn: Warn) -> list[str]:
    """Which resources exist locally; what the author declared and the emulator cannot hold is said."""
    active: list[str] = []
    for logical_id, resource in resources.items():
        kind = resource.get("Type", "")
        if resource.get("Condition") and not resolver.condition(resource["Condition"]):
            log.info("%-8s %-28s %-30s condition %s is false", "skipped", kind, logical_id, resource["Condition"])
            resolver.skipped.add(logical_id)
        elif kind in HANDLERS or kind in REGISTERED_TYPES:
            active.append(logical_id)
        else:
            resolver.skipped.add(logical_id)
            if logical_id in declared and not kind.startswith("AWS::IAM::"):
                warn(f"{logical_id}: {kind} is not emulated locally; ignored (it is deployed on AWS only)")
            else:  # roles and the translator's own additions (permissions, roles): nothing to run
                log.info("%-8s %-28s %-30s not emulated locally (AWS only)", "skipped", kind, logical_id)
    return active


def _name_lambda_resources(
    resources: dict[str, Any], active: list[str], resolver: Resolver, clients: Clients
) -> dict[str, str]:
    """Functions', versions', aliases' and layers' names and ARNs are known up front: anything may refer to them."""
    names: dict[str, str] = {}
    for logical_id in active:
        resource = resources[logical_id]
        props = resource.get("Properties") or {}
        if resource["Type"] == LAMBDA_FUNCTION:
            name = names[logical_id] = function_name(logical_id, props, resolver, clients.local_name)
            resolver.refs[logical_id] = name
            resolver.attrs[(logical_id, "Arn")] = lambda_arn(name)
        elif resource["Type"] == LAMBDA_LAYER:
            layer = str(resolver.resolve(props.get("LayerName") or clients.local_name(logical_id)))
            resolver.refs[logical_id] = layer_arn(layer)
    for logical_id in active:  # after the functions: versions and aliases name them
        resource = resources[logical_id]
        props = resource.get("Properties") or {}
        if resource["Type"] == LAMBDA_VERSION:
            arn = f"{lambda_arn(function_name_from(str(resolver.resolve(props['FunctionName']))))}:{LOCAL_VERSION}"
            resolver.refs[logical_id] = arn
            resolver.attrs[(logical_id, "Version")] = LOCAL_VERSION
        elif resource["Type"] == LAMBDA_ALIAS:
            target = function_name_from(str(resolver.resolve(props["FunctionName"])))
            resolver.refs[logical_id] = f"{lambda_arn(target)}:{resolver.resolve(props['Name'])}"
    return names


def _check_functions(
    resources: dict[str, Any],
    functions_by_id: dict[str, str],
    resolver: Resolver,
    transformed: Transformed,
    template_dir: Path,
    warn: Warn,
) -> dict[str, Path]:
    """The functions that can run here, with their code folders; a TemplateError for one whose code or handler is not there."""
    runnable: dict[str, Path] = {}
    for logical_id, name in functions_by_id.items():
        props = resources[logical_id].get("Properties") or {}
        if props.get("PackageType") == "Image":
            warn(f"{name}: a container image function does not run locally; not registered")
            continue
        runtime = resolver.resolve(props.get("Runtime"))
        if not is_python(runtime):
            warn(f"{name}: Runtime {runtime} does not run locally (only Python does); not registered")
            continue
        if not props.get("Handler"):
            raise TemplateError(f"{logical_id}: Handler is needed (on the function or in Globals)")
        code_dir = code_folder(logical_id, props.get("Code"), transformed, template_dir, "CodeUri")
        check_handler(logical_id, code_dir, str(resolver.resolve(props["Handler"])))
        runnable[logical_id] = code_dir
    return runnable


def _create_emulator_resources(
    resources: dict[str, Any],
    active: list[str],
    resolver: Resolver,
    clients: Clients,
    current: dict[str, Any],
    stack_name: str,
) -> list[dict[str, str]]:
    """Each emulator resource after what it refers to; what was made is recorded for `workshop delete`."""
    created: list[dict[str, str]] = []
    owned = {
        (resource["type"], resource["name"]): owner
        for owner, record in function_registry.stacks(current).items()
        if owner != stack_name
        for resource in record.get("resources", [])
    }
    emulated = [logical_id for logical_id in active if resources[logical_id]["Type"] in HANDLERS]
    for logical_id in creation_order(resources, emulated):
        kind = resources[logical_id]["Type"]
        props = resolver.resolve(resources[logical_id].get("Properties") or {})
        wanted = props.get(NAME_PROPERTIES[kind])
        if wanted and (kind, str(wanted)) in owned:
            raise TemplateError(
                f"{logical_id}: {kind} {wanted!r} belongs to stack {owned[(kind, str(wanted))]}; "
                "two stacks cannot share it (leave the name out and it is named after this stack)"
            )
        outcome = HANDLERS[kind](clients, logical_id, props)
        resolver.refs[logical_id] = outcome.ref
        for attribute, value in outcome.attrs.items():
            resolver.attrs[(logical_id, attribute)] = value
        created.append({"type": kind, "name": str(outcome.physical_id), "ref": str(outcome.ref)})
        log.info("%-8s %-28s %-30s %s", outcome.status, kind, logical_id, outcome.physical_id)
    return created


def _layers(
    resources: dict[str, Any], active: list[str], resolver: Resolver, transformed: Transformed, template_dir: Path, warn: Warn
) -> dict[str, list[str]]:
    """Each local layer's ARN and the folders it puts on a function's path."""
    paths: dict[str, list[str]] = {}
    for logical_id in active:
        resource = resources[logical_id]
        if resource["Type"] == LAMBDA_LAYER:
            props = resolver.resolve(resource.get("Properties") or {})
            folder = code_folder(logical_id, props.get("Content"), transformed, template_dir, "ContentUri")
            paths[resolver.refs[logical_id]] = layer_path(logical_id, folder, resource.get("Metadata") or {}, warn)
            log.info("%-8s %-28s %-30s %s", "local", LAMBDA_LAYER, logical_id, folder)
    return paths


def _mapping(
    logical_id: str,
    resource: dict[str, Any],
    resolver: Resolver,
    clients: Clients,
    functions: dict[str, dict[str, Any]],
    created: list[dict[str, str]],
    warn: Warn,
) -> dict[str, Any] | None:
    props = resolver.resolve(resource.get("Properties") or {})
    function = function_name_from(str(props["FunctionName"]))
    queue_arn = str(props.get("EventSourceArn"))
    if ":sqs:" not in queue_arn:
        warn(f"{function}: event source {queue_arn} ({logical_id}) is not emulated locally (only SQS is); ignored")
        return None
    if function not in functions:
        warn(f"{logical_id}: maps {queue_arn} to {function}, which is not registered; ignored")
        return None
    queue_url = next(
        (r["ref"] for r in created if r["type"] == "AWS::SQS::Queue" and r["ref"].endswith("/" + queue_arn.rsplit(":", 1)[1])),
        None,
    ) or clients.sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
    check_visibility(function, functions[function], queue_arn, clients.sqs, queue_url)
    log.info("%-8s %-28s %-30s %s -> %s", "mapped", "SQS event source", logical_id, queue_arn, function)
    return {
        "uuid": mapping_uuid(function, logical_id, queue_arn),
        "function": function,
        "queue_url": queue_url,
        "queue_arn": queue_arn,
        "batch_size": int(props.get("BatchSize", 10)),
        "maximum_batching_window": int(props.get("MaximumBatchingWindowInSeconds", 0)),
        "report_batch_item_failures": "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        "enabled": _truthy(props.get("Enabled", True)),
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    config = StackConfig()
    try:
        registry = provision(config)
    except TemplateError as error:
        print(f"template error: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"cannot provision in the emulator at {config.emulator_url}: {error}", file=sys.stderr)
        print("is it running? (make up)", file=sys.stderr)
        return 1
    print(
        f"registry {config.registry_path}: {len(registry['functions'])} functions, "
        f"{len(registry['event_source_mappings'])} event source mappings"
    )
    return 0
