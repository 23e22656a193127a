"""Which resources a value refers to, and so the order in which to create them.

Kept apart from the ``Resolver``: it reads the template as written, before anything is
resolved, to find the Ref/GetAtt/Sub edges between resources.
"""

from __future__ import annotations

from typing import Any

from workshop.provision.intrinsics import _SUB_VARIABLE
from workshop.provision.template import TemplateError


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
