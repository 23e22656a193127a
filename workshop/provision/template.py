"""Reading infra/template.yaml: the stack's names, the provisioner's one error, the YAML tags.

Every other module of the package needs ``TemplateError`` and the stack's constants,
and none needs YAML: the short-tag loader is the one place that turns ``!Ref x`` into
``{"Ref": "x"}``, so the rest only ever sees the long forms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workshop.config import ACCOUNT_ID, REGION


STACK_NAME = "workshop"
PARTITION = "aws"


def pseudo_parameters(stack_name: str = STACK_NAME) -> dict[str, Any]:
    """CloudFormation's pseudo parameters for one stack of the local account and region."""
    return {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::StackName": stack_name,
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local",
    }


PSEUDO_PARAMETERS: dict[str, Any] = pseudo_parameters()
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
