"""A SAM template of every fidelity function, written with its code into a folder outside the repository.

`workshop deploy` gets an ordinary SAM template (the shape `sam deploy`
takes): one AWS::Serverless::Function per case, durable, published as the
alias `live`, its code the copied fidelity_handlers package; and the
functions the invoke cases call (TARGETS). The folder must be outside the repository,
so the deploy is seen to work from a template that is not the workshop's own.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.fidelity.cases import ALIAS, CASES, EXECUTION_TIMEOUT_S, HANDLER_PACKAGE, TARGETS, Case
from workshop.config import REPO_ROOT

HANDLERS_DIR = Path(__file__).resolve().parent / HANDLER_PACKAGE
CODE_DIR = "code"


def _logical_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-")) + "Function"


def _function(name: str, handler: str, durable: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "FunctionName": name,
        "CodeUri": CODE_DIR,
        "Handler": handler,
        "Runtime": "python3.13",
        "Timeout": 30,
        "MemorySize": 256,
    }
    if durable:
        properties["AutoPublishAlias"] = ALIAS
        properties["DurableConfig"] = {"ExecutionTimeout": EXECUTION_TIMEOUT_S, "RetentionPeriodInDays": 1}
    return {"Type": "AWS::Serverless::Function", "Properties": properties}


def template_body(cases: tuple[Case, ...] = CASES) -> dict[str, Any]:
    resources = {_logical_id(case.kind): _function(case.function_name, case.handler, durable=True) for case in cases}
    resources.update({_logical_id(target.name): _function(target.name, target.handler, durable=target.durable) for target in TARGETS})
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Fidelity functions: one durable handler per SDK operation kind (tests/fidelity).",
        "Resources": resources,
    }


def write_template(folder: Path, cases: tuple[Case, ...] = CASES) -> Path:
    """template.yaml and code/fidelity_handlers/ in `folder` (outside the repository); the template's path."""
    folder = folder.resolve()
    if folder.is_relative_to(REPO_ROOT):
        raise ValueError(f"{folder} is inside the repository ({REPO_ROOT}); the fidelity template goes outside it")
    code = folder / CODE_DIR / HANDLER_PACKAGE
    shutil.copytree(HANDLERS_DIR, code, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    template = folder / "template.yaml"
    template.write_text(yaml.safe_dump(template_body(cases), sort_keys=False))
    return template
