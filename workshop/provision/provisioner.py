"""``provision()``: the template's resources in the emulator, in order, then the function registry.

The orchestration only: which resources exist locally, which module handles each type
(``HANDLERS``), the order of the steps, and the registry written through
``workshop.registry``. ``main()`` is what ``python -m workshop.provision`` runs.
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
    _function_entry,
    _function_name,
    _function_name_from,
    _mapping_uuid,
    check_visibility,
)
from workshop.provision.intrinsics import Resolver, _truthy
from workshop.provision.log_groups import _log_group, ensure_log_group
from workshop.provision.order import creation_order
from workshop.provision.parameters import _load_local_parameters, resolve_parameters
from workshop.provision.queues import _queue
from workshop.provision.resources import Clients, Outcome, lambda_arn
from workshop.provision.sam_globals import apply_function_globals
from workshop.provision.ssm_secrets import _secret, _ssm_parameter
from workshop.provision.tables import _simple_table, _table
from workshop.provision.template import SERVERLESS_FUNCTION, TemplateError, load_template


# One logger for the whole package, named as it was when this was one module
# (tests and logging setups address "workshop.provision").
log = logging.getLogger("workshop.provision")


ResourceHandler = Callable[[Clients, str, dict[str, Any]], Outcome]
HANDLERS: dict[str, ResourceHandler] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::Serverless::SimpleTable": _simple_table,
    "AWS::SQS::Queue": _queue,
    "AWS::SSM::Parameter": _ssm_parameter,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Logs::LogGroup": _log_group,
}
# Handled apart: functions go to the registry, mappings are read from them.
REGISTERED_TYPES = {SERVERLESS_FUNCTION, "AWS::Lambda::EventSourceMapping"}


# --------------------------------------------------------------------------- provision


def provision(
    config: StackConfig,
    template_path: Path = TEMPLATE_PATH,
    parameter_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create the template's resources in the emulator (idempotent) and write the function
    registry to ``config.registry_path``. Returns the registry.

    Parameter values: template defaults, then ``local-parameters.json`` beside the
    template, then ``parameter_overrides``.
    """
    template_path = Path(template_path).resolve()
    template = load_template(template_path)
    resources: dict[str, dict[str, Any]] = template["Resources"]
    parameters = resolve_parameters(template, _load_local_parameters(template_path), parameter_overrides)
    resolver = Resolver(parameters=parameters, mappings=template.get("Mappings") or {})
    resolver.evaluate_conditions(template.get("Conditions") or {})
    clients = Clients(config)

    # Which resources exist locally at all.
    active: list[str] = []
    for logical_id, resource in resources.items():
        kind = resource.get("Type", "")
        if resource.get("Condition") and not resolver.condition(resource["Condition"]):
            log.info("%-8s %-28s %-30s condition %s is false", "skipped", kind, logical_id, resource["Condition"])
            resolver.skipped.add(logical_id)
        elif kind in HANDLERS or kind in REGISTERED_TYPES:
            active.append(logical_id)
        else:
            log.info("%-8s %-28s %-30s not emulated locally (AWS only)", "skipped", kind, logical_id)
            resolver.skipped.add(logical_id)

    # Functions' names and ARNs are known up front: resources may refer to them freely.
    function_props = apply_function_globals(template)
    function_names: dict[str, str] = {}
    for logical_id in active:
        if resources[logical_id]["Type"] == SERVERLESS_FUNCTION:
            props = function_props[logical_id]
            name = function_names[logical_id] = _function_name(logical_id, props, resolver)
            resolver.refs[logical_id] = name
            resolver.attrs[(logical_id, "Arn")] = lambda_arn(name)
            alias = props.get("AutoPublishAlias")
            if alias:  # SAM's referable property: !Ref Function.Alias -> alias ARN
                resolver.refs[f"{logical_id}.Alias"] = f"{lambda_arn(name)}:{alias}"

    # Emulator resources, each after what it refers to.
    queues_by_arn: dict[str, str] = {}
    emulated = [lid for lid in active if resources[lid]["Type"] in HANDLERS]
    for logical_id in creation_order(resources, emulated):
        kind = resources[logical_id]["Type"]
        props = resolver.resolve(resources[logical_id].get("Properties") or {})
        outcome = HANDLERS[kind](clients, logical_id, props)
        resolver.refs[logical_id] = outcome.ref
        for attribute, value in outcome.attrs.items():
            resolver.attrs[(logical_id, attribute)] = value
        if kind == "AWS::SQS::Queue":
            queues_by_arn[outcome.attrs["Arn"]] = outcome.ref
        log.info("%-8s %-28s %-30s %s", outcome.status, kind, logical_id, outcome.physical_id)

    # The function registry, with each function's log group.
    template_dir = template_path.parent
    functions: dict[str, dict[str, Any]] = {}
    mappings: list[dict[str, Any]] = []

    def add_mapping(function_name: str, source_id: str, props: dict[str, Any]) -> None:
        queue_arn = str(props.get("Queue") or props.get("EventSourceArn"))
        if ":sqs:" not in queue_arn:
            log.info("%-8s %-28s %-30s only SQS mappings are emulated", "skipped", "event source", source_id)
            return
        queue_url = (
            queues_by_arn.get(queue_arn) or clients.sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        )
        check_visibility(function_name, functions.get(function_name) or {}, queue_arn, clients.sqs, queue_url)
        mappings.append(
            {
                "uuid": _mapping_uuid(function_name, source_id, queue_arn),
                "function": function_name,
                "queue_url": queue_url,
                "queue_arn": queue_arn,
                "batch_size": int(props.get("BatchSize", 10)),
                "maximum_batching_window": int(props.get("MaximumBatchingWindowInSeconds", 0)),
                "report_batch_item_failures": "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                "enabled": _truthy(props.get("Enabled", True)),
            }
        )
        log.info("%-8s %-28s %-30s %s -> %s", "mapped", "SQS event source", source_id, queue_arn, function_name)

    for logical_id, name in function_names.items():
        props = function_props[logical_id]
        entry = _function_entry(logical_id, props, resolver, template_dir, name)
        functions[name] = entry
        outcome = ensure_log_group(clients, entry["log_group"])
        log.info("%-8s %-28s %-30s %s", outcome.status, "AWS::Logs::LogGroup", logical_id, entry["log_group"])
        log.info("%-8s %-28s %-30s %s", "local", SERVERLESS_FUNCTION, logical_id, name)
        for event_id, event in (props.get("Events") or {}).items():
            if event.get("Type") == "SQS":
                add_mapping(name, f"{logical_id}.{event_id}", resolver.resolve(event.get("Properties") or {}))
            else:
                log.info(
                    "%-8s %-28s %-30s event type %s not emulated locally",
                    "skipped", "event source", f"{logical_id}.{event_id}", event.get("Type"),
                )  # fmt: skip

    for logical_id in active:
        if resources[logical_id]["Type"] == "AWS::Lambda::EventSourceMapping":
            props = resolver.resolve(resources[logical_id].get("Properties") or {})
            add_mapping(_function_name_from(str(props["FunctionName"])), logical_id, props)

    registry = {"functions": functions, "event_source_mappings": mappings}
    function_registry.write(config, registry)
    return registry


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
