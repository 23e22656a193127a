"""Run SAM's translator on one template: JSON in on stdin, JSON out on stdout.

Why a script of its own: aws-sam-translator pins a pydantic that clashes with
the durable SDK's, so it lives in an environment of its own
(``.venv-samtranslator``, requirements/sam-translator.txt) and this file is run
by that environment's Python. It imports nothing from the workshop: only the
standard library and ``samtranslator``, which turns the SAM template into the
CloudFormation that ``sam deploy`` would send (Globals merged, AutoPublishAlias
as a Version and an Alias, Events as event source mappings, layers, roles).

stdin:  {"template": {...}, "parameters": {"Name": "value", "AWS::Region": ...}, "mode": "translate"}
stdout: {"template": {...}} or {"errors": ["...", ...]}

``"mode": "globals"`` only merges ``Globals`` into each resource (SAM's Globals
plugin, as SAM CLI's local commands read a template): the template as SAM sees
it, before it becomes CloudFormation.
"""

from __future__ import annotations

import json
import sys
from typing import Any


class _AnyManagedPolicy(dict):  # type: ignore[type-arg]
    """Managed policy names resolve to AWS's ARN form without asking IAM (the translator runs offline)."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __getitem__(self, name: str) -> str:
        return f"arn:aws:iam::aws:policy/{name}"

    def get(self, name: str, default: Any = None) -> str:  # type: ignore[override]
        return self[name]


class _OfflinePolicyLoader:
    """What ``transform`` asks for policy names: answered from the name alone."""

    def load(self) -> dict[str, str]:
        return _AnyManagedPolicy()


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.model.exceptions import InvalidDocumentException, InvalidTemplateException
    from samtranslator.plugins.globals.globals_plugin import GlobalsPlugin
    from samtranslator.translator.transform import transform

    try:
        if request.get("mode") == "globals":
            template = request["template"]
            GlobalsPlugin().on_before_transform_template(template)
            return {"template": template}
        return {"template": transform(request["template"], request["parameters"], _OfflinePolicyLoader())}
    except InvalidDocumentException as exc:
        return {"errors": [str(cause) for cause in exc.causes] or [str(exc)]}
    except InvalidTemplateException as exc:
        return {"errors": [str(exc)]}


def main() -> int:
    request = json.load(sys.stdin)
    out, sys.stdout = sys.stdout, sys.stderr  # the translator's own prints must not mix with the answer
    answer = _answer(request)
    json.dump(answer, out, default=str)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
