"""Function names, versions and ARNs as Lambda spells them, shared by the host's routes and its backend.

Versions: the registry (workshop.registry, written by the provisioner) lists
each function's aliases but no versions. On AWS, AutoPublishAlias publishes
version 1 at the first deploy and points the alias at it, so here every
alias names version PUBLISHED_VERSION ("1") and a function with an alias has
that one version: `order-saga:live` and `order-saga:1` run the same code,
report ExecutedVersion "1", and a durable execution started through either
has an ARN with `:1/durable-execution/` (the model's pattern allows only
$LATEST or a number there). A function without an alias has only $LATEST.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from workshop.config import ACCOUNT_ID, REGION
from workshop.host import errors


def function_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


LATEST = "$LATEST"
PUBLISHED_VERSION = "1"


def published_versions(function: Mapping[str, Any]) -> tuple[str, ...]:
    """The numbered versions a function has: version 1 once an alias exists (AutoPublishAlias's first publish)."""
    return (PUBLISHED_VERSION,) if function.get("aliases") else ()


def executed_version(function: Mapping[str, Any], qualifier: str | None) -> str:
    """What Lambda reports as ExecutedVersion for an invoke with this qualifier (assumed valid for the function)."""
    if qualifier in function.get("aliases", []):
        return PUBLISHED_VERSION
    return qualifier if qualifier in published_versions(function) else LATEST


def split_function_name(raw: str, qualifier: str | None) -> tuple[str, str | None]:
    """Accept `name`, `name:qualifier`, or a function ARN, as Lambda does."""
    raw = urllib.parse.unquote(raw)
    if raw.startswith("arn:"):
        parts = raw.split(":")
        if len(parts) < 7 or parts[5] != "function":
            raise errors.invalid_parameter(f"{raw} is not a function ARN")
        name, embedded = parts[6], (parts[7] if len(parts) > 7 else None)
    else:
        name, _, embedded = raw.partition(":")
        embedded = embedded or None
    if embedded and qualifier and embedded != qualifier:
        raise errors.invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.")
    return name, embedded or qualifier
