"""Function names and ARNs as Lambda spells them, shared by the host's routes and its backend."""

from __future__ import annotations

import urllib.parse

from workshop.config import ACCOUNT_ID, REGION
from workshop.host import errors


def function_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


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
