"""Functions and their event source mappings, as the function host's registry describes them.

Functions are not created in the emulator (its Lambda cannot run durable functions):
this module turns a function's Properties into its registry entry and checks an SQS
mapping against the queue it reads, before the host ever polls it.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from workshop.provision.intrinsics import Resolver, _text
from workshop.provision.resources import local_name
from workshop.provision.template import DEFAULT_MEMORY, DEFAULT_TIMEOUT, TemplateError


# One logger for the whole package, named as it was when this was one module
# (tests and logging setups address "workshop.provision").
log = logging.getLogger("workshop.provision")


# --------------------------------------------------------------------------- functions


def _function_name(logical_id: str, props: dict[str, Any], resolver: Resolver) -> str:
    name = props.get("FunctionName")
    return str(resolver.resolve(name)) if name else local_name(logical_id)


def _function_entry(
    logical_id: str, props: dict[str, Any], resolver: Resolver, template_dir: Path, function_name: str
) -> dict[str, Any]:
    code_uri = resolver.resolve(props.get("CodeUri"))
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise TemplateError(f"{logical_id}: CodeUri must be a local folder to run locally, got {code_uri!r}")
    if not props.get("Handler") or not props.get("Runtime"):
        raise TemplateError(f"{logical_id}: Handler and Runtime are needed (on the function or in Globals)")
    variables = resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
    durable = resolver.resolve(props.get("DurableConfig"))
    if durable is not None:
        durable = {key: int(value) for key, value in durable.items()}
    alias = resolver.resolve(props.get("AutoPublishAlias"))
    tracing = resolver.resolve(props.get("Tracing"))
    logging_config = resolver.resolve(props.get("LoggingConfig") or {})
    return {
        "logical_id": logical_id,
        "code_dir": str((template_dir / code_uri).resolve()),
        "handler": str(resolver.resolve(props["Handler"])),
        "runtime": str(resolver.resolve(props["Runtime"])),
        "timeout": int(resolver.resolve(props.get("Timeout", DEFAULT_TIMEOUT))),
        "memory": int(resolver.resolve(props.get("MemorySize", DEFAULT_MEMORY))),
        "environment": {str(key): _text(value) for key, value in variables.items()},
        "durable": durable,
        "aliases": [str(alias)] if alias else [],
        "tracing": "Active" if tracing == "Active" else "PassThrough",
        "log_group": logging_config.get("LogGroup") or f"/aws/lambda/{function_name}",
    }


def _mapping_uuid(function_name: str, source_id: str, queue_arn: str) -> str:
    """Stable across runs, so the function host keeps one poller per mapping."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"workshop-esm:{function_name}:{source_id}:{queue_arn}"))


def check_visibility(function_name: str, function: dict[str, Any], queue_arn: str, sqs: Any, queue_url: str) -> None:
    """A queue mapped to a function must keep a batch invisible for as long as the function may take.

    Lambda refuses the mapping when the function's timeout exceeds the queue's
    visibility timeout; a durable function's execution can last up to its
    ``ExecutionTimeout``, and a batch that outlasts the visibility timeout is
    delivered again while it is still being processed, its valid messages on
    their way to the DLQ. Said at ``make up``, not found at 3 a.m.
    """
    visibility = int(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"])
    timeout = int(function.get("timeout", DEFAULT_TIMEOUT))
    if timeout > visibility:
        raise TemplateError(
            f"{function_name}: Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds ({queue_arn}); Lambda refuses this mapping"
        )
    execution_timeout = int((function.get("durable") or {}).get("ExecutionTimeout", 0))
    if execution_timeout > visibility:
        log.warning(
            "%s: the visibility timeout of %s (%d s) is shorter than the durable execution timeout (%d s): "
            "a batch still running after %d s is delivered again",
            function_name, queue_arn, visibility, execution_timeout, visibility,
        )  # fmt: skip


def _function_name_from(target: str) -> str:
    """A function name from a name, a (qualified) ARN or name:qualifier."""
    if target.startswith("arn:"):
        return target.split(":function:", 1)[1].split(":", 1)[0]
    return target.split(":", 1)[0]
