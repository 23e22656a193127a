"""What a SAM template asks for that the translator turns into resources the local stack does not run.

Why before translating: an ``Events`` entry of type Api or Schedule becomes
API Gateway or EventBridge resources and a permission, under names the author
never wrote; the warning is clearer in the template's own words (function,
event, type). SQS events run locally (the function host polls the queue).
"""

from __future__ import annotations

from typing import Any

from workshop.provision.template import SERVERLESS_FUNCTION

EMULATED_EVENT_TYPES = {"SQS"}


def sam_level_warnings(template: dict[str, Any]) -> list[str]:
    """One line per function event the local stack does not deliver."""
    lines: list[str] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != SERVERLESS_FUNCTION:
            continue
        for event_id, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            kind = (event or {}).get("Type")
            if kind not in EMULATED_EVENT_TYPES:
                lines.append(f"{logical_id}: event {event_id} (Type {kind}) is not delivered locally (only SQS is); ignored")
    return lines
