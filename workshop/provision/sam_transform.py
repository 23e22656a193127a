"""SAM templates become CloudFormation through SAM's own translator, as `sam deploy` does.

Why not our own expansion: Globals, ``AutoPublishAlias`` (a Version and an
Alias), ``Events`` (event source mappings), layers and policies are SAM's
rules, and the translator is where SAM keeps them. Reading the translator's
CloudFormation, the local stack and AWS read any template the same way.

The translator runs in an environment of its own (its pydantic pin clashes with
the durable SDK's): ``.venv-samtranslator``, built by ``make env`` from
requirements/sam-translator.txt, or the Python that WORKSHOP_SAM_TRANSLATOR_PYTHON
names (the compose image sets it). It needs no account and no network.

Local code: the translator only accepts code in S3 (``sam package`` uploads it
first). Each local ``CodeUri`` / ``ContentUri`` is swapped for a placeholder
``s3://workshop-local-code/<key>`` before translating and mapped back after, so
the provisioner knows each function's and layer's folder.

A translation takes about a second (the translator's import); it is cached by
the template's content and parameter values, next to the translator.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workshop.config import REPO_ROOT
from workshop.provision.template import TemplateError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
LOCAL_CODE_BUCKET = "workshop-local-code"
TRANSLATOR_VENV = REPO_ROOT / ".venv-samtranslator"
TRANSLATOR_SCRIPT = Path(__file__).with_name("translator_process.py")
TRANSLATE_DEADLINE_S = 60.0  # a cold import on a slow laptop is ~3 s; a hang is named, not waited on
# Where a local folder is written in SAM: (resource type, property); Globals too.
_LOCAL_URI_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


@dataclass
class Transformed:
    """The CloudFormation template, and the local folder behind each placeholder S3 key."""

    template: dict[str, Any]
    local_code: dict[str, str] = field(default_factory=dict)  # S3 key -> folder as written in the template

    def local_folder(self, location: Any) -> str | None:
        """The folder a translated ``Code`` / ``Content`` stands for (None: not local code)."""
        if isinstance(location, dict) and location.get("S3Bucket") == LOCAL_CODE_BUCKET:
            return self.local_code.get(str(location.get("S3Key")))
        return None


def is_sam(template: dict[str, Any]) -> bool:
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in transforms


def translator_python() -> Path:
    override = os.environ.get("WORKSHOP_SAM_TRANSLATOR_PYTHON")
    return Path(override) if override else TRANSLATOR_VENV / "bin" / "python"


def to_cloudformation(template: dict[str, Any], parameters: dict[str, Any]) -> Transformed:
    """The template as CloudFormation: translated when it uses the SAM transform, else as it is."""
    if not is_sam(template):
        return Transformed(copy.deepcopy(template))
    sam, local_code = _with_placeholders(template)
    request = {"template": sam, "parameters": parameters}
    translated = _cached_translation(request)
    return Transformed(translated, local_code)


def with_globals(template: dict[str, Any]) -> dict[str, Any]:
    """The SAM template with ``Globals`` merged into each resource by SAM's own Globals plugin.

    For reading a template as its author wrote it (policies, AutoPublishAlias,
    Events) with the Globals SAM applies: the template's own checks use it.
    """
    if not template.get("Globals"):
        return copy.deepcopy(template)
    return _cached_translation({"template": template, "parameters": {}, "mode": "globals"})


def _with_placeholders(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    sam = copy.deepcopy(template)
    local_code: dict[str, str] = {}

    def swap(properties: dict[str, Any], prop: str, key: str) -> None:
        uri = properties.get(prop)
        if isinstance(uri, str) and not uri.startswith("s3://"):
            local_code[key] = uri
            properties[prop] = f"s3://{LOCAL_CODE_BUCKET}/{key}"

    globals_function = (sam.get("Globals") or {}).get("Function")
    if isinstance(globals_function, dict):
        swap(globals_function, "CodeUri", "Globals.Function")
    for logical_id, resource in (sam.get("Resources") or {}).items():
        prop = _LOCAL_URI_PROPERTIES.get(str(resource.get("Type")))
        if prop and isinstance(resource.get("Properties"), dict):
            swap(resource["Properties"], prop, logical_id)
    return sam, local_code


def _cached_translation(request: dict[str, Any]) -> dict[str, Any]:
    python = translator_python()
    text = json.dumps(request, sort_keys=True, default=str)
    digest = hashlib.sha256((text + TRANSLATOR_SCRIPT.read_text(encoding="utf-8")).encode()).hexdigest()[:32]
    cache = python.parent.parent / "translated" / f"{digest}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    translated = _translate(python, text)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}")
        partial.write_text(json.dumps(translated), encoding="utf-8")
        os.replace(partial, cache)
    except OSError:
        pass  # a read-only environment translates every time
    return translated


def _translate(python: Path, request_text: str) -> dict[str, Any]:
    if not python.exists():
        raise TemplateError(
            f"SAM's translator is not installed ({python} is missing): run `make env`, "
            "or set WORKSHOP_SAM_TRANSLATOR_PYTHON to a Python that has aws-sam-translator"
        )
    try:
        done = subprocess.run(
            [str(python), "-I", str(TRANSLATOR_SCRIPT)],  # -I: only its own site-packages, not this folder
            input=request_text,
            capture_output=True,
            text=True,
            timeout=TRANSLATE_DEADLINE_S,
            # the translator asks boto3 for a region when the template has none; never for credentials
            env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")},
        )
    except subprocess.TimeoutExpired:
        raise TemplateError(f"SAM's translator did not answer within {TRANSLATE_DEADLINE_S:.0f} s") from None
    if done.returncode != 0:
        raise TemplateError(f"SAM's translator failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    answer = json.loads(done.stdout)
    if "errors" in answer:
        raise TemplateError("SAM cannot translate the template: " + "; ".join(answer["errors"]))
    return answer["template"]
