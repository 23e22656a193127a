"""Template parameter values: defaults, then local-parameters.json, then overrides, each checked.

Apart from the intrinsics because it runs once, before any resolving, and is the only
step that reads a file other than the template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workshop.provision.template import TemplateError


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
