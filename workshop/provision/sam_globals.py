"""SAM's ``Globals.Function``: merged into each function's Properties before anything reads them.

A module of its own because it is SAM's rule, not CloudFormation's: the template is
transformed here, before the intrinsics resolve it. (Named ``sam_globals``: ``globals``
is a builtin.)
"""

from __future__ import annotations

from typing import Any

from workshop.provision.intrinsics import _is_intrinsic
from workshop.provision.template import SERVERLESS_FUNCTION


# --------------------------------------------------------------------------- globals


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
