"""A callback's answer as a dict: a person (an approver, a warehouse clerk) may send any JSON, or plain text."""

from __future__ import annotations

import json
from typing import Any


def answer_as_dict(result: Any, text_key: str, *, scalars_as_text: bool) -> dict[str, Any]:
    """A JSON object as it is; plain text, or JSON that is not an object, under `text_key`.

    `scalars_as_text`: a JSON number or list is kept as text (the approver's
    comment is shown as text) rather than as the decoded value.
    """
    if isinstance(result, dict):
        return result
    if isinstance(result, str | bytes) and result:
        try:
            decoded = json.loads(result)
        except json.JSONDecodeError:
            return {text_key: result if isinstance(result, str) else result.decode(errors="replace")}
        if isinstance(decoded, dict):
            return decoded
        return {text_key: str(decoded) if scalars_as_text else decoded}
    return {}
