"""Lambda functions, layers and event source mappings, as the function host's registry describes them.

Functions are not created in the emulator (its Lambda cannot run durable
functions): this module turns a translated ``AWS::Lambda::Function`` into its
registry entry, puts a local layer's ``python/`` folder on the function's path
as Lambda does, says in one warning line what a function declares that does not
run locally, and checks an SQS mapping against the queue it reads before the host
ever polls it.

Tell, never drop: everything a template asks for either runs or is named in a
warning (or, when the function cannot run at all, a TemplateError).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workshop.config import ACCOUNT_ID, REGION
from workshop.provision.intrinsics import Resolver, _text
from workshop.provision.sam_transform import Transformed
from workshop.provision.template import DEFAULT_MEMORY, DEFAULT_TIMEOUT, PARTITION, TemplateError


# One logger for the whole package (tests and logging setups address "workshop.provision").
log = logging.getLogger("workshop.provision")

Warn = Callable[[str], None]

LAMBDA_FUNCTION = "AWS::Lambda::Function"
LAMBDA_LAYER = "AWS::Lambda::LayerVersion"
LAMBDA_VERSION = "AWS::Lambda::Version"
LAMBDA_ALIAS = "AWS::Lambda::Alias"
LAMBDA_MAPPING = "AWS::Lambda::EventSourceMapping"
LAMBDA_TYPES = {LAMBDA_FUNCTION, LAMBDA_LAYER, LAMBDA_VERSION, LAMBDA_ALIAS, LAMBDA_MAPPING}
# The version an alias points at locally: AutoPublishAlias's first version on AWS.
LOCAL_VERSION = "1"
# Properties the registry entry carries, and those that change nothing locally.
_RUN_LOCALLY = {
    "Code", "FunctionName", "Handler", "Runtime", "Timeout", "MemorySize", "Environment",
    "DurableConfig", "TracingConfig", "LoggingConfig", "Layers", "DeadLetterConfig",
}  # fmt: skip
_NOTHING_TO_DO_LOCALLY = {"Role", "Tags", "Architectures", "Description", "PackageType"}
EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"


def lambda_arn(function_name: str) -> str:
    return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"


def layer_arn(layer_name: str) -> str:
    return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}:layer:{layer_name}:{LOCAL_VERSION}"


def function_name(logical_id: str, props: dict[str, Any], resolver: Resolver, local_name: Callable[[str], str]) -> str:
    name = props.get("FunctionName")
    return str(resolver.resolve(name)) if name else local_name(logical_id)


def function_name_from(target: str) -> str:
    """A function name from a name, a (qualified) ARN or name:qualifier."""
    if target.startswith("arn:"):
        return target.split(":function:", 1)[1].split(":", 1)[0]
    return target.split(":", 1)[0]


def code_folder(logical_id: str, location: Any, transformed: Transformed, template_dir: Path, what: str) -> Path:
    """The local folder of a function's Code (or a layer's Content); a TemplateError when it is not local."""
    folder = transformed.local_folder(location)
    if folder is None:
        raise TemplateError(
            f"{logical_id}: {what} must be a local folder to run locally (got {location!r}); "
            "S3 locations and inline code are not run by the local stack"
        )
    path = (template_dir / folder).resolve()
    if not path.is_dir():
        raise TemplateError(f"{logical_id}: {what} {folder!r} is not a folder ({path} does not exist)")
    return path


def check_handler(logical_id: str, code_dir: Path, handler: str) -> None:
    """The handler's module must exist before anything is registered (Lambda says so at the first invoke)."""
    module, _, attribute = handler.rpartition(".")
    if not module or not attribute:
        raise TemplateError(f"{logical_id}: Handler {handler!r} must be module.function (for example app.handler)")
    relative = Path(*module.split("."))
    if (code_dir / relative).with_suffix(".py").is_file() or (code_dir / relative / "__init__.py").is_file():
        return
    raise TemplateError(f"{logical_id}: Handler {handler!r}: no module {relative}.py in {code_dir}")


def layer_path(logical_id: str, content_dir: Path, metadata: dict[str, Any], warn: Warn) -> list[str]:
    """What a layer adds to a Python function's path: ``python/`` inside it, as Lambda extracts it to /opt.

    A layer built by ``sam build`` (``Metadata: BuildMethod: python3.x``) holds its
    modules at its root; SAM puts them under python/ when it builds the zip.
    """
    python_dir = content_dir / "python"
    if python_dir.is_dir():
        return [str(python_dir)]
    if str((metadata or {}).get("BuildMethod", "")).startswith("python"):
        return [str(content_dir)]
    warn(f"{logical_id}: layer {content_dir} has no python/ folder (Lambda adds only /opt/python to the path); nothing added")
    return []


def function_entry(
    logical_id: str,
    props: dict[str, Any],
    resolver: Resolver,
    code_dir: Path,
    name: str,
    layer_paths: dict[str, list[str]],
    warn: Warn,
) -> dict[str, Any]:
    """The registry entry of one (translated, resolved) AWS::Lambda::Function."""
    variables = dict(resolver.resolve((props.get("Environment") or {}).get("Variables") or {}))
    if EXEC_WRAPPER in variables:
        warn(f"{name}: {EXEC_WRAPPER}={variables.pop(EXEC_WRAPPER)} is ignored locally (the function host runs the handler itself)")
    python_path: list[str] = []
    for layer in resolver.resolve(props.get("Layers") or []):
        if str(layer) in layer_paths:
            python_path += layer_paths[str(layer)]
        else:
            warn(f"{name}: layer {layer} cannot be resolved locally (only layers of a deployed template are); ignored")
    unknown = sorted(set(props) - _RUN_LOCALLY - _NOTHING_TO_DO_LOCALLY)
    if unknown:
        warn(f"{name}: {', '.join(unknown)} not implemented locally; ignored")
    durable = resolver.resolve(props.get("DurableConfig"))
    logging_config = resolver.resolve(props.get("LoggingConfig") or {})
    entry: dict[str, Any] = {
        "logical_id": logical_id,
        "code_dir": str(code_dir),
        "handler": str(resolver.resolve(props["Handler"])),
        "runtime": str(resolver.resolve(props["Runtime"])),
        "timeout": int(resolver.resolve(props.get("Timeout", DEFAULT_TIMEOUT))),
        "memory": int(resolver.resolve(props.get("MemorySize", DEFAULT_MEMORY))),
        "environment": {str(key): _text(value) for key, value in variables.items()},
        "durable": {key: int(value) for key, value in durable.items()} if durable is not None else None,
        "aliases": [],
        "tracing": "Active" if (resolver.resolve(props.get("TracingConfig")) or {}).get("Mode") == "Active" else "PassThrough",
        "log_group": logging_config.get("LogGroup") or f"/aws/lambda/{name}",
    }
    entry.update(_log_settings(name, logging_config, warn))
    if python_path:
        entry["python_path"] = python_path
    target = str((resolver.resolve(props.get("DeadLetterConfig")) or {}).get("TargetArn", ""))
    if ":sqs:" in target:
        entry["dead_letter_arn"] = target  # a failed Event invoke ends there (workshop/host/async_invoke.py)
    elif target:
        warn(f"{name}: DeadLetterConfig target {target} is not delivered locally (only SQS is); ignored")
    return entry


def _log_settings(name: str, logging_config: dict[str, Any], warn: Warn) -> dict[str, str]:
    """The LoggingConfig the function host applies: the log format and, with JSON, the application log level.

    Lambda hands them to the runtime as AWS_LAMBDA_LOG_FORMAT and
    AWS_LAMBDA_LOG_LEVEL, and the Python runtime sets the root logger's level
    from the latter: without it, a function's ``logging.info`` (and a durable
    function's default ``context.logger.info``) is dropped on AWS as here.
    Lambda filters by level only in the JSON format. The system log level
    (Lambda's own START/END/REPORT lines) is not applied here: said, not dropped.
    """
    settings: dict[str, str] = {}
    log_format = str(logging_config.get("LogFormat") or "")
    if log_format:
        settings["log_format"] = log_format
    level = str(logging_config.get("ApplicationLogLevel") or "").upper()
    if level and log_format == "JSON":
        settings["application_log_level"] = level
    elif level:
        warn(f"{name}: LoggingConfig ApplicationLogLevel needs LogFormat JSON (as on AWS); ignored")
    if logging_config.get("SystemLogLevel"):
        warn(f"{name}: LoggingConfig SystemLogLevel not implemented locally; ignored")
    return settings


def is_python(runtime: Any) -> bool:
    return isinstance(runtime, str) and runtime.startswith("python")


def mapping_uuid(function: str, source_id: str, queue_arn: str) -> str:
    """Stable across runs, so the function host keeps one poller per mapping."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"workshop-esm:{function}:{source_id}:{queue_arn}"))


def check_visibility(function: str, entry: dict[str, Any], queue_arn: str, sqs: Any, queue_url: str) -> None:
    """A queue mapped to a function must keep a batch invisible for as long as the function may take.

    Lambda refuses the mapping when the function's timeout exceeds the queue's
    visibility timeout; a durable function's execution can last up to its
    ``ExecutionTimeout``, and a batch that outlasts the visibility timeout is
    delivered again while it is still being processed, its valid messages on
    their way to the DLQ. Said at ``make up``, not found at 3 a.m.
    """
    visibility = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"])
    timeout = int(entry.get("timeout", DEFAULT_TIMEOUT))
    if timeout > visibility:
        raise TemplateError(
            f"{function}: Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds ({queue_arn}); Lambda refuses this mapping"
        )
    execution_timeout = int((entry.get("durable") or {}).get("ExecutionTimeout", 0))
    if execution_timeout > visibility:
        log.warning(
            "%s: the visibility timeout of %s (%d s) is shorter than the durable execution timeout (%d s): "
            "a batch still running after %d s is delivered again",
            function, queue_arn, visibility, execution_timeout, visibility,
        )  # fmt: skip
