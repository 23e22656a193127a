"""CloudFormation's intrinsic functions (Ref, GetAtt, Sub, If, conditions, ...), evaluated locally.

The ``Resolver`` holds what is known so far (parameters, created resources' refs and
attributes, the skipped ones) and every module that reads template values goes through
it; ``_text`` and ``_truthy`` are CloudFormation's string and boolean forms, shared by
the resource modules.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from workshop.config import REGION
from workshop.provision.template import NO_VALUE, PSEUDO_PARAMETERS, TemplateError


# --------------------------------------------------------------------------- intrinsics

_INTRINSIC_KEYS = {
    "Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split",
    "Fn::If", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::FindInMap",
    "Fn::Base64", "Fn::GetAZs", "Fn::ImportValue", "Fn::Cidr", "Fn::Length", "Fn::ToJsonString",
}  # fmt: skip
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSIC_KEYS


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
    pseudo: dict[str, Any] = field(default_factory=lambda: dict(PSEUDO_PARAMETERS))  # AWS::StackName etc. of this stack

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
        if name in self.pseudo:
            return self.pseudo[name]
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
            if "." in name and name not in self.pseudo:
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
