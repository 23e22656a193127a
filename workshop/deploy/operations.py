"""deploy, delete, list and restore the templates deployed into the local stack.

Why the stack's name matters: it owns its functions (another stack cannot take
their names), it names the resources the template leaves unnamed
(``<stack>-<LogicalId>``, as CloudFormation puts the stack's name in them), and
``workshop delete NAME`` removes exactly what it made.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from workshop import registry as function_registry
from workshop.config import REPO_ROOT, TEMPLATE_PATH, StackConfig
from workshop.deploy import parameters_store
from workshop.deploy.teardown import remove_resources
from workshop.provision import TemplateError, provision
from workshop.runner import function_configs

log = logging.getLogger("workshop.deploy")

Say = Callable[[str], None]
WORKSHOP_STACK = function_registry.WORKSHOP_STACK
# CloudFormation's rule for stack names.
STACK_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


class DeployError(Exception):
    """A template that cannot be deployed (or a stack that cannot be deleted), in words for the user."""


@dataclass(frozen=True)
class DeployedStack:
    name: str
    template: Path
    functions: list[str]
    mappings: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StackSummary:
    name: str
    template: str
    functions: list[str]
    mappings: int
    problem: str | None  # why `make up` could not deploy it again, if it could not


def default_stack_name(template: Path) -> str:
    """The template's folder name, made a valid stack name (``sam deploy --guided`` suggests the same)."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", Path(template).resolve().parent.name).strip("-")
    if not name or not name[0].isalpha():
        name = f"stack-{name}" if name else "stack"
    return name[:128]


def _check_stack_name(name: str, template: Path) -> None:
    if not STACK_NAME_PATTERN.fullmatch(name):
        raise DeployError(
            f"stack name {name!r}: use letters, digits and hyphens, starting with a letter (at most 128), as CloudFormation does"
        )
    if name == WORKSHOP_STACK and template != TEMPLATE_PATH.resolve():
        raise DeployError(f"the stack name {WORKSHOP_STACK!r} is infra/template.yaml's (make up provisions it); choose another")


def deploy(
    config: StackConfig,
    template: Path,
    stack_name: str | None = None,
    parameter_overrides: dict[str, str] | None = None,
    say: Say = lambda line: None,
) -> DeployedStack:
    """Provision ``template`` into the running stack as ``stack_name`` and register its functions.

    Deploying the same stack again updates it (its functions are replaced, its
    resources brought in step with the template); nothing is registered when
    the template cannot run (a parse error, a missing handler, a name another
    stack has).
    """
    template = Path(template).expanduser().resolve()
    if not template.is_file():
        raise DeployError(f"no template at {template}")
    name = stack_name or default_stack_name(template)
    _check_stack_name(name, template)
    if config.mode == "compose" and not template.is_relative_to(REPO_ROOT):
        raise DeployError(
            f"{template} is outside the repository: the compose stack's containers see only the repository "
            "(mounted at /workshop). Put the template under the repository, or use the embedded stack."
        )
    warnings: list[str] = []

    def warn(line: str) -> None:
        warnings.append(line)
        say(f"warning: {line}")

    try:
        part = provision(config, template, parameter_overrides, stack_name=name, warn=warn)
    except yaml.YAMLError as error:
        raise DeployError(f"{template} does not parse as YAML: {error}") from None
    except TemplateError as error:
        raise DeployError(f"{template}: {error}") from None
    except (BotoCoreError, ClientError) as error:
        raise DeployError(f"cannot reach the local stack's emulator at {config.emulator_url} ({error}): is it running? (make up)") from None
    parameters_store.save(config, name, {str(k): str(v) for k, v in (parameter_overrides or {}).items()})
    function_configs.write(config.state_dir, function_registry.load(config))
    return DeployedStack(name, template, sorted(part["functions"]), len(part["event_source_mappings"]), warnings)


def delete(config: StackConfig, name: str, keep_data: bool = False, say: Say = lambda line: None) -> list[str]:
    """Remove a deployed stack's functions and mappings, and its resources (not its tables and queues with keep_data)."""
    if name == WORKSHOP_STACK:
        raise DeployError(f"{WORKSHOP_STACK!r} is infra/template.yaml's stack, which `make up` provisions; `make clean` removes it")
    record = function_registry.remove_stack(config, name)
    if record is None:
        known = ", ".join(sorted(set(function_registry.stacks(function_registry.load_or_empty(config))) - {WORKSHOP_STACK})) or "none"
        raise DeployError(f"no stack {name!r} is deployed (deployed: {known})")
    function_configs.write(config.state_dir, function_registry.load_or_empty(config))
    parameters_store.forget(config, name)
    for function in record.get("functions", []):
        say(f"  removed  {'function':<28} {function}")
    try:
        return remove_resources(config, record.get("resources", []), keep_data, say)
    except (BotoCoreError, ClientError) as error:
        raise DeployError(
            f"{name}'s functions are removed, but its resources could not be deleted from the emulator at "
            f"{config.emulator_url} ({error}); they stay until `make clean`"
        ) from None


def list_stacks(config: StackConfig) -> list[StackSummary]:
    registry = function_registry.load_or_empty(config)
    summaries = []
    for name, record in sorted(function_registry.stacks(registry).items(), key=lambda item: (item[0] != WORKSHOP_STACK, item[0])):
        mappings = sum(1 for m in registry.get("event_source_mappings", []) if function_registry.stack_of(m) == name)
        summaries.append(StackSummary(name, record.get("template", "?"), record.get("functions", []), mappings, record.get("problem")))
    return summaries


def restore(config: StackConfig, say: Say = print) -> list[str]:
    """Deploy every remembered stack again from its file (`make up`); one that fails is said and kept on record.

    A stack whose template is gone or no longer deploys keeps its record (with
    the reason, for `workshop stacks`) but none of its functions: the code they
    pointed at is what changed.
    """
    restored: list[str] = []
    for name, record in function_registry.stacks(function_registry.load_or_empty(config)).items():
        if name == WORKSHOP_STACK:
            continue
        try:
            deployed = deploy(config, Path(record["template"]), name, parameters_store.load(config, name), say=say)
        except DeployError as error:
            say(f"  {'not deployed':<14} stack {name}: {error}")
            function_registry.replace_stack(config, name, {}, [], {**record, "functions": [], "problem": str(error)})
            continue
        restored.append(name)
        say(f"  {'deployed':<14} stack {name}: {len(deployed.functions)} functions from {deployed.template}")
    return restored
