"""Create in the local emulator what infra/template.yaml declares, and write the function registry.

The SAM template is the one description of the stack: `sam deploy` sends it to AWS
unchanged, and this module plays CloudFormation's part locally. It reads the template
(short tags such as ``!Ref`` and long forms such as ``Fn::Sub``), resolves parameters
and pseudo parameters, applies SAM ``Globals``, then creates, in dependency order and
idempotently, the resources the emulator can hold: DynamoDB tables, SQS queues, SSM
parameters, Secrets Manager secrets and CloudWatch log groups.

Functions are not created in the emulator (its Lambda cannot run durable functions);
they are written to a JSON registry that the local function host reads: code folder,
handler, resolved environment, durable settings, aliases and SQS event source mappings.

Resource types the emulator has no use for (IAM roles, alarms, ...) are skipped with a
one-line notice, so the template can carry AWS-only resources.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import string
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from workshop import registry as function_registry
from workshop.config import ACCOUNT_ID, REGION, TEMPLATE_PATH, StackConfig, boto3_client

log = logging.getLogger(__name__)

STACK_NAME = "workshop"
PARTITION = "aws"
PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
}
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
# Lambda's own defaults, used when neither the function nor Globals set a value.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128


class TemplateError(Exception):
    """The template (or a parameter value) cannot be provisioned as written."""


# --------------------------------------------------------------------------- loading


class _NoValue:
    """AWS::NoValue: the property it stands for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class TemplateLoader(yaml.SafeLoader):
    """YAML loader for CloudFormation: turns ``!Ref x`` into ``{"Ref": "x"}``, ``!Sub`` into
    ``{"Fn::Sub": ...}`` and so on, and keeps dates as strings (``2010-09-09``)."""


# CloudFormation has no timestamps: "2010-09-09" must stay a string.
TemplateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_intrinsic(loader: TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TemplateError(f"!{suffix}: unexpected YAML node {node!r}")
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # "Res.Attr.Sub" -> ["Res", "Attr.Sub"]
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML (or JSON) template into plain dicts and lists."""
    with open(path, encoding="utf-8") as handle:
        template = yaml.load(handle, Loader=TemplateLoader)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources section)")
    return template


# --------------------------------------------------------------------------- parameters


def resolve_parameters(template: dict[str, Any], *layers: dict[str, Any] | None) -> dict[str, str]:
    """Template defaults, then each layer in order (local file, then overrides).

    Values are strings, as CloudFormation passes them; Number, AllowedValues and
    Min/MaxValue are checked so that a wrong local value fails here, not in a handler.
    """
    declared: dict[str, dict[str, Any]] = template.get("Parameters") or {}
    values = {name: str(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    for layer in layers:
        for name, value in (layer or {}).items():
            if name not in declared:
                raise TemplateError(f"parameter {name!r} is not declared in the template")
            values[name] = str(value)
    for name, spec in declared.items():
        if name not in values:
            raise TemplateError(f"parameter {name!r} has no Default and no value was given")
        _check_parameter(name, spec, values[name])
    return values


def _check_parameter(name: str, spec: dict[str, Any], value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"parameter {name}={value!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={value} is below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={value} is above MaxValue {spec['MaxValue']}")


def _load_local_parameters(template_path: Path) -> dict[str, Any]:
    """``local-parameters.json`` beside the template: the values used on a laptop."""
    path = template_path.with_name("local-parameters.json")
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: expected a JSON object of parameter values")
    return data


# --------------------------------------------------------------------------- globals


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSIC_KEYS


def merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rule: maps merge (local keys win), lists concatenate, scalars and
    intrinsic functions are replaced by the local value."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if _is_intrinsic(global_value) or _is_intrinsic(local_value):
            return local_value
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def apply_function_globals(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each AWS::Serverless::Function's Properties with ``Globals.Function`` merged in."""
    function_globals = ((template.get("Globals") or {}).get("Function")) or {}
    result: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == SERVERLESS_FUNCTION:
            result[logical_id] = merge_globals(function_globals, resource.get("Properties") or {})
    return result


# --------------------------------------------------------------------------- intrinsics

_INTRINSIC_KEYS = {
    "Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split",
    "Fn::If", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::FindInMap",
    "Fn::Base64", "Fn::GetAZs", "Fn::ImportValue", "Fn::Cidr", "Fn::Length", "Fn::ToJsonString",
}  # fmt: skip
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Resolver:
    """Evaluates intrinsic functions against what is known so far.

    ``refs`` maps a logical id (or SAM's ``Function.Alias``) to its Ref value, ``attrs``
    maps (logical id, attribute) to a GetAtt value. ``skipped`` holds resources that are
    not provisioned locally: references to them give a visible placeholder.
    """

    parameters: dict[str, str]
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if _is_intrinsic(value):
            ((key, argument),) = value.items()
            return self._intrinsic(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    # Each branch mirrors the CloudFormation function of the same name.
    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return self.ref(self.resolve(arg))
        if key == "Fn::GetAtt":
            target, attribute = self.resolve(arg) if isinstance(arg, list) else str(arg).split(".", 1)
            return self.get_att(target, attribute)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            delimiter, items = arg
            return str(delimiter).join(_text(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = self.resolve(arg)
            return str(text).split(str(delimiter))
        if key == "Fn::If":
            condition, if_true, if_false = arg
            return self.resolve(if_true if self.condition(condition) else if_false)
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
            return self._condition_function(key, arg)
        if key == "Fn::FindInMap":
            map_name, top, second = self.resolve(arg)[:3]
            try:
                return self.mappings[map_name][top][second]
            except KeyError:
                raise TemplateError(f"Fn::FindInMap: {map_name}/{top}/{second} not in Mappings") from None
        if key == "Fn::Base64":
            return base64.b64encode(_text(self.resolve(arg)).encode()).decode()
        if key == "Fn::GetAZs":
            return [f"{REGION}{zone}" for zone in "abc"]
        if key == "Fn::Length":
            return len(self.resolve(arg))
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise TemplateError(f"{key} is not supported by the local provisioner")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name.split(".", 1)[0] in self.skipped:
            return f"<{name}: not provisioned locally>"
        raise TemplateError(f"Ref {name!r}: no such parameter or resource (or not created yet)")

    def get_att(self, target: str, attribute: str) -> Any:
        if (target, attribute) in self.attrs:
            return self.attrs[(target, attribute)]
        if target in self.skipped:
            return f"<{target}.{attribute}: not provisioned locally>"
        raise TemplateError(f"GetAtt {target}.{attribute}: unknown resource or attribute")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1] if len(arg) > 1 else {})
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written out as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name])
            if "." in name and name not in PSEUDO_PARAMETERS:
                target, attribute = name.split(".", 1)
                if (target, attribute) in self.attrs or target in self.skipped:
                    return _text(self.get_att(target, attribute))
            return _text(self.ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"condition {name!r} is not defined in Conditions")
        return self.conditions[name]

    def _condition_function(self, key: str, arg: Any) -> bool:
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return _text(left) == _text(right)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(item) for item in arg)
        return any(self.resolve(item) for item in arg)  # Fn::Or

    def evaluate_conditions(self, conditions: dict[str, Any]) -> None:
        """Conditions may refer to each other: evaluate lazily, each once."""
        pending = dict(conditions)

        def evaluate(name: str, stack: tuple[str, ...] = ()) -> bool:
            if name in self.conditions:
                return self.conditions[name]
            if name in stack:
                raise TemplateError(f"conditions refer to each other in a cycle: {' -> '.join(stack)}")
            for dependency in _condition_names(pending[name]):
                if dependency in pending:
                    evaluate(dependency, (*stack, name))
            self.conditions[name] = bool(self.resolve(pending[name]))
            return self.conditions[name]

        for name in pending:
            evaluate(name)


def _condition_names(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Condition" and isinstance(item, str):
                found.add(item)
            else:
                found |= _condition_names(item)
    elif isinstance(value, list):
        for item in value:
            found |= _condition_names(item)
    return found


def _text(value: Any) -> str:
    """CloudFormation's string form of a value (booleans lower-case, as in JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) a value refers to through Ref, GetAtt and Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item.split(".", 1)[0])
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else str(item).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                local = set(item[1]) if isinstance(item, list) and len(item) > 1 else set()
                for name in _SUB_VARIABLE.findall(str(text)):
                    if not name.startswith("!") and name not in local:
                        found.add(name.split(".", 1)[0])
                if isinstance(item, list) and len(item) > 1:
                    found |= references(item[1])
            else:
                found |= references(item)
    return found


# --------------------------------------------------------------------------- resources


def local_name(logical_id: str) -> str:
    """Where AWS would generate a physical name, use a stable one: ``workshop-<LogicalId>``."""
    return f"{STACK_NAME}-{logical_id}"


def lambda_arn(function_name: str) -> str:
    return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"


@dataclass
class Outcome:
    """What provisioning one resource did, and the values other resources may refer to."""

    status: str  # created | exists | updated
    physical_id: str
    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)


class Clients:
    """One boto3 client per service, created on first use."""

    def __init__(self, config: StackConfig) -> None:
        self._config = config
        self._clients: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = boto3_client(service, self._config)
        return self._clients[service]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _table(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    ddb = clients.dynamodb
    name = props.get("TableName") or local_name(logical_id)
    status = "exists"
    try:
        description = ddb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("ProvisionedThroughput", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "Tags"):
            if key in props:
                kwargs[key] = props[key]
        if "StreamSpecification" in props:  # CloudFormation omits StreamEnabled
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb.create_table(**kwargs)
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        description = ddb.describe_table(TableName=name)["Table"]
        status = "created"

    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        wanted = _truthy(ttl.get("Enabled", False))
        current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        enabled = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        if enabled != wanted or (wanted and current.get("AttributeName") != ttl.get("AttributeName")):
            spec = {"AttributeName": ttl.get("AttributeName") or current.get("AttributeName"), "Enabled": wanted}
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
            status = "updated" if status == "exists" else status

    attrs = {"Arn": description["TableArn"]}
    if description.get("LatestStreamArn"):
        attrs["StreamArn"] = description["LatestStreamArn"]
    return Outcome(status, name, name, attrs)


def _simple_table(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    """AWS::Serverless::SimpleTable is a one-key DynamoDB table."""
    key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    kind = {"String": "S", "Number": "N", "Binary": "B"}[key.get("Type", "String")]
    table: dict[str, Any] = {
        "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": kind}],
    }
    if props.get("TableName"):
        table["TableName"] = props["TableName"]
    if props.get("ProvisionedThroughput"):
        table.update(BillingMode="PROVISIONED", ProvisionedThroughput=props["ProvisionedThroughput"])
    else:
        table["BillingMode"] = "PAY_PER_REQUEST"
    return _table(clients, logical_id, table)


# CloudFormation AWS::SQS::Queue properties that are SQS queue attributes.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue", "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize", "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy", "SqsManagedSseEnabled",
    "VisibilityTimeout",
)  # fmt: skip
_JSON_QUEUE_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy")


def _queue_attribute(name: str, value: Any) -> str:
    if name in _JSON_QUEUE_ATTRIBUTES:
        return value if isinstance(value, str) else json.dumps(value)
    return _text(value)


def _same_queue_attribute(name: str, wanted: str, current: str | None) -> bool:
    if current is None:
        return False
    if name in _JSON_QUEUE_ATTRIBUTES:  # compare as data: 3 and "3" are the same
        try:
            return {k: str(v) for k, v in json.loads(wanted).items()} == {
                k: str(v) for k, v in json.loads(current).items()
            }
        except (ValueError, AttributeError):
            return False
    return wanted.lower() == current.lower()


def _queue(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    sqs = clients.sqs
    fifo = _truthy(props.get("FifoQueue", False))
    name = props.get("QueueName") or local_name(logical_id) + (".fifo" if fifo else "")
    attributes = {key: _queue_attribute(key, props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if "NonExistentQueue" not in _error_code(error) and _error_code(error) != "QueueDoesNotExist":
            raise
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        status = "created"
    else:
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        changed = {
            key: value
            for key, value in attributes.items()
            if key != "FifoQueue" and not _same_queue_attribute(key, value, current.get(key))
        }
        if changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
        status = "updated" if changed else "exists"
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Outcome(status, name, url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


def _ssm_parameter(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    """Template values win on every run, as a CloudFormation update would."""
    ssm = clients.ssm
    name = props.get("Name") or local_name(logical_id)
    kind = props.get("Type", "String")
    value = ",".join(props["Value"]) if isinstance(props["Value"], list) else _text(props["Value"])
    try:
        current = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ClientError as error:
        if _error_code(error) != "ParameterNotFound":
            raise
        current = None
    if current is not None and current["Value"] == value and current["Type"] == kind:
        status = "exists"
    else:
        kwargs: dict[str, Any] = {"Name": name, "Type": kind, "Value": value, "Overwrite": current is not None}
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        ssm.put_parameter(**kwargs)
        status = "created" if current is None else "updated"
    return Outcome(status, name, name, {"Type": kind, "Value": value})


def generate_secret_string(spec: dict[str, Any]) -> str:
    """A local stand-in for Secrets Manager's GenerateSecretString (same options)."""
    length = int(spec.get("PasswordLength", 32))
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    pools = [
        pool
        for flag, pool in (
            ("ExcludeLowercase", string.ascii_lowercase),
            ("ExcludeUppercase", string.ascii_uppercase),
            ("ExcludeNumbers", string.digits),
            ("ExcludePunctuation", string.punctuation),
        )
        if not _truthy(spec.get(flag, False))
    ]
    if _truthy(spec.get("IncludeSpace", False)):
        pools.append(" ")
    pools = ["".join(c for c in pool if c not in excluded) for pool in pools]
    pools = [pool for pool in pools if pool]
    if not pools:
        raise TemplateError("GenerateSecretString excludes every character")
    alphabet = "".join(pools)
    chars = [secrets.choice(pool) for pool in pools] if _truthy(spec.get("RequireEachIncludedType", True)) else []
    if len(chars) > length:
        raise TemplateError("GenerateSecretString: PasswordLength is shorter than the required character types")
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    password = "".join(chars)
    if "SecretStringTemplate" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)
    return password


def _secret(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    """An explicit SecretString is kept in step with the template; a generated one is made
    once and kept (as on AWS, where an update does not regenerate it). Values are never logged."""
    sm = clients.secretsmanager
    name = props.get("Name") or local_name(logical_id)
    explicit = props.get("SecretString")
    try:
        arn = sm.describe_secret(SecretId=name)["ARN"]
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        value = (
            _text(explicit) if explicit is not None else generate_secret_string(props.get("GenerateSecretString") or {})
        )
        kwargs: dict[str, Any] = {"Name": name, "SecretString": value}
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        arn = sm.create_secret(**kwargs)["ARN"]
        return Outcome("created", name, arn, {"Id": arn})
    status = "exists"
    if explicit is not None and sm.get_secret_value(SecretId=arn).get("SecretString") != _text(explicit):
        sm.put_secret_value(SecretId=arn, SecretString=_text(explicit))
        status = "updated"
    return Outcome(status, name, arn, {"Id": arn})


def ensure_log_group(clients: Clients, name: str, retention_days: Any = None) -> Outcome:
    logs = clients.logs
    try:
        logs.create_log_group(logGroupName=name)
        status = "created"
    except ClientError as error:
        if _error_code(error) != "ResourceAlreadyExistsException":
            raise
        status = "exists"
    if retention_days:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention_days))
    arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}"
    return Outcome(status, name, name, {"Arn": f"{arn}:*"})


def _log_group(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    return ensure_log_group(clients, props.get("LogGroupName") or local_name(logical_id), props.get("RetentionInDays"))


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


def creation_order(resources: dict[str, dict[str, Any]], candidates: list[str]) -> list[str]:
    """Candidates sorted so that each comes after the candidates it refers to (a DLQ
    before the queue whose RedrivePolicy names it); template order otherwise."""
    wanted = set(candidates)
    needs = {}
    for logical_id in candidates:
        resource = resources[logical_id]
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        needs[logical_id] = (references(resource.get("Properties") or {}) | set(depends)) & wanted - {logical_id}
    ordered: list[str] = []
    while len(ordered) < len(candidates):
        ready = [lid for lid in candidates if lid not in ordered and needs[lid] <= set(ordered)]
        if not ready:
            stuck = sorted(set(candidates) - set(ordered))
            raise TemplateError(f"resources refer to each other in a cycle: {', '.join(stuck)}")
        ordered.extend(ready[:1])
    return ordered


# --------------------------------------------------------------------------- functions


def _function_name(logical_id: str, props: dict[str, Any], resolver: Resolver) -> str:
    name = props.get("FunctionName")
    return str(resolver.resolve(name)) if name else local_name(logical_id)


def _function_entry(
    logical_id: str, props: dict[str, Any], resolver: Resolver, template_dir: Path, function_name: str
) -> dict[str, Any]:
    code_uri = resolver.resolve(props.get("CodeUri"))
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise TemplateError(f"{logical_id}: CodeUri must be a local folder to run locally, got {code_uri!r}")
    if not props.get("Handler") or not props.get("Runtime"):
        raise TemplateError(f"{logical_id}: Handler and Runtime are needed (on the function or in Globals)")
    variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
    durable = resolver.resolve(props.get("DurableConfig"))
    if durable is not None:
        durable = {key: int(value) for key, value in durable.items()}
    alias = resolver.resolve(props.get("AutoPublishAlias"))
    tracing = resolver.resolve(props.get("Tracing"))
    logging_config = resolver.resolve(props.get("LoggingConfig") or {})
    return {
        "logical_id": logical_id,
        "code_dir": str((template_dir / code_uri).resolve()),
        "handler": str(resolver.resolve(props["Handler"])),
        "runtime": str(resolver.resolve(props["Runtime"])),
        "timeout": int(resolver.resolve(props.get("Timeout", DEFAULT_TIMEOUT))),
        "memory": int(resolver.resolve(props.get("MemorySize", DEFAULT_MEMORY))),
        "environment": {str(key): _text(value) for key, value in variables.items()},
        "durable": durable,
        "aliases": [str(alias)] if alias else [],
        "tracing": "Active" if tracing == "Active" else "PassThrough",
        "log_group": logging_config.get("LogGroup") or f"/aws/lambda/{function_name}",
    }


def _mapping_uuid(function_name: str, source_id: str, queue_arn: str) -> str:
    """Stable across runs, so the function host keeps one poller per mapping."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"workshop-esm:{function_name}:{source_id}:{queue_arn}"))


def check_visibility(function_name: str, function: dict[str, Any], queue_arn: str, sqs: Any, queue_url: str) -> None:
    """A queue mapped to a function must keep a batch invisible for as long as the function may take.

    Lambda refuses the mapping when the function's timeout exceeds the queue's
    visibility timeout; a durable function's execution can last up to its
    ``ExecutionTimeout``, and a batch that outlasts the visibility timeout is
    delivered again while it is still being processed, its valid messages on
    their way to the DLQ. Said at ``make up``, not found at 3 a.m.
    """
    visibility = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"])
    timeout = int(function.get("timeout", DEFAULT_TIMEOUT))
    if timeout > visibility:
        raise TemplateError(
            f"{function_name}: Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds ({queue_arn}); Lambda refuses this mapping"
        )
    execution_timeout = int((function.get("durable") or {}).get("ExecutionTimeout", 0))
    if execution_timeout > visibility:
        log.warning(
            "%s: the visibility timeout of %s (%d s) is shorter than the durable execution timeout (%d s): "
            "a batch still running after %d s is delivered again",
            function_name, queue_arn, visibility, execution_timeout, visibility,
        )  # fmt: skip


def _function_name_from(target: str) -> str:
    """A function name from a name, a (qualified) ARN or name:qualifier."""
    if target.startswith("arn:"):
        return target.split(":function:", 1)[1].split(":", 1)[0]
    return target.split(":", 1)[0]


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


if __name__ == "__main__":
    sys.exit(main())
