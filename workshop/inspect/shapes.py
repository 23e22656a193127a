"""Check what the function host returns against botocore's own output shapes for Lambda.

Why: a client on AWS gets exactly these shapes, and code written against the
local stack (a timeline, a test, a Logs Insights query that parses an ARN)
must not depend on something AWS never sends. botocore's client parser is
lenient (it drops unknown keys, never checks a pattern, an enum or a length),
and botocore.validate only checks requests, so a reply that "parses" proves
little. This walks the reply as it is on the wire, against the same model the
client uses, and names every difference.

What is real about "2025-12-01": there is no Lambda API version of that date.
botocore's Lambda model is the one API version 2015-03-31
(botocore/data/lambda/2015-03-31/service-2.json); its durable execution
operations (GetDurableExecution, GetDurableExecutionHistory,
GetDurableExecutionState, ListDurableExecutionsByFunction,
CheckpointDurableExecution, SendDurableExecutionCallback*, Stop...) are
served under the URI prefix /2025-12-01/, which is the date the issue means.
The shapes checked here are that model's, read from the installed botocore.

Checked, per the model (Smithy's traits as botocore exposes them):
- structure: a JSON object; every `required` member present; no member the
  shape does not have (AWS sends none); members located in headers are read
  from the headers, the status code and a blob payload are skipped;
- list / map: their member or value shape, `min` / `max` length;
- string: a str; `enum`; `min` / `max` length; `pattern`, matched in full
  (the service's validators match the whole value; an ARN with a suffix is
  not an ARN);
- integer / long: an int (not a bool), `min` / `max`;
- boolean; double / float: a number;
- timestamp: a number of epoch seconds, rest-json's wire format, or an
  ISO-8601 string where the shape says `timestampFormat: iso8601`;
- blob: a base64 string.
Then each reply is parsed by botocore's own rest-json parser, as a client
would, so a value the client cannot read fails too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from botocore.model import OperationModel, Shape

SERVICE = "lambda"


class ShapeError(AssertionError):
    """A reply that differs from the AWS model; its message lists every difference, one per line."""


@cache
def service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


@cache
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct (\p{L}); none of the durable shapes has one
        return None


def _walk(shape: Shape, value: Any, where: str, problems: list[str]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{where}: {shape.name} must be an object, got {type(value).__name__}")
            return
        members = {m.serialization.get("name", name): (name, m) for name, m in shape.members.items() if "location" not in m.serialization}
        for name in shape.required_members:
            member = shape.members[name]
            if "location" not in member.serialization and member.serialization.get("name", name) not in value:
                problems.append(f"{where}: required {name} ({shape.name}) is missing")
        for key, item in value.items():
            if key not in members:
                problems.append(f"{where}.{key}: {shape.name} has no member {key}")
            elif item is not None:
                _walk(members[key][1], item, f"{where}.{key}", problems)
        return
    if kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where}: {shape.name} must be a list, got {type(value).__name__}")
            return
        _length(shape, len(value), where, problems)
        for index, item in enumerate(value):
            _walk(shape.member, item, f"{where}[{index}]", problems)
        return
    if kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{where}: {shape.name} must be an object, got {type(value).__name__}")
            return
        for key, item in value.items():
            _walk(shape.key, key, f"{where} key {key!r}", problems)
            _walk(shape.value, item, f"{where}[{key!r}]", problems)
        return
    if kind == "string":
        if not isinstance(value, str):
            problems.append(f"{where}: {shape.name} must be a string, got {type(value).__name__} {value!r}")
            return
        if shape.enum and value not in shape.enum:
            problems.append(f"{where}: {value!r} is not one of {shape.name}'s values {list(shape.enum)}")
        _length(shape, len(value), where, problems)
        pattern = meta.get("pattern")
        regex = _regex(pattern) if pattern else None
        if regex is not None and not regex.fullmatch(value):
            problems.append(f"{where}: {value!r} does not match {shape.name}'s pattern {pattern}")
        return
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where}: {shape.name} must be an integer, got {type(value).__name__} {value!r}")
            return
        if "min" in meta and value < meta["min"]:
            problems.append(f"{where}: {value} is below {shape.name}'s minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{where}: {value} is above {shape.name}'s maximum {meta['max']}")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: {shape.name} must be a boolean, got {type(value).__name__} {value!r}")
        return
    if kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"{where}: {shape.name} must be a number, got {type(value).__name__} {value!r}")
        return
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601" or meta.get("timestampFormat") == "iso8601":
            if not isinstance(value, str):
                problems.append(f"{where}: {shape.name} must be an ISO-8601 string, got {value!r}")
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"{where}: {shape.name} must be epoch seconds (a number), got {type(value).__name__} {value!r}")
        return
    if kind == "blob":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            problems.append(f"{where}: {shape.name} must be base64, got {value!r:.60}")
        return
    problems.append(f"{where}: {shape.name} has type {kind}, which this checker does not know")  # pragma: no cover


def _length(shape: Shape, length: int, where: str, problems: list[str]) -> None:
    meta = shape.metadata
    if "min" in meta and length < meta["min"]:
        problems.append(f"{where}: length {length} is below {shape.name}'s minimum {meta['min']}")
    if "max" in meta and length > meta["max"]:
        problems.append(f"{where}: length {length} is above {shape.name}'s maximum {meta['max']}")


def output_problems(operation_name: str, body: Any, headers: Mapping[str, str] | None = None, status: int = 200) -> list[str]:
    """Every way a reply (the JSON body, as sent, and the headers) differs from the operation's output shape."""
    model = operation(operation_name)
    shape = model.output_shape
    problems: list[str] = []
    if shape is None:
        return problems
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    for name, member in shape.members.items():
        if member.serialization.get("location") == "header":
            header = member.serialization.get("name", name).lower()
            if header in lowered:
                _walk(member, lowered[header], f"{operation_name} header {member.serialization.get('name', name)}", problems)
    if shape.serialization.get("payload"):
        return problems  # Invoke: the body is the function's own result, not a shape
    _walk(shape, body if body is not None else {}, operation_name, problems)
    if not problems:
        _parse(model, body, lowered, status, problems)
    return problems


def _parse(model: OperationModel, body: Any, headers: dict[str, str], status: int, problems: list[str]) -> None:
    """botocore's own parser, as a client would read the reply."""
    from botocore.parsers import create_parser

    raw = {"status_code": status, "headers": headers, "body": json.dumps(body).encode()}
    try:
        create_parser(service_model().protocol).parse(raw, model.output_shape)
    except Exception as exc:  # noqa: BLE001 - whatever the parser raises is the finding
        problems.append(f"{model.name}: botocore's parser could not read the reply: {exc}")


def event_problems(event: Mapping[str, Any], where: str = "event") -> list[str]:
    """Beyond the shape: an event carries the one details member its type names, as AWS's do (StepSucceeded -> StepSucceededDetails)."""
    kind = event.get("EventType")
    details = [key for key in event if key.endswith("Details")]
    if details != [f"{kind}Details"]:
        return [f"{where} {kind}: has details {details}, expected exactly [{kind}Details]"]
    return []


@cache
def _routes() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    found = []
    for name in service_model().operation_names:
        http = operation(name).http
        path = http["requestUri"].split("?")[0]
        regex = re.sub(r"\\{[^}]+\\+\\}", ".+", re.escape(path))  # {Greedy+}
        regex = re.sub(r"\\{[^}]+\\}", "[^/]+", regex)
        found.append((http["method"], re.compile(regex), name))
    return tuple(found)


def operation_for(method: str, path: str) -> str | None:
    """The Lambda operation a request is (GET /2025-12-01/durable-executions/X/history -> GetDurableExecutionHistory), by the model's URIs."""
    path = path.split("?")[0]
    matches = [name for verb, regex, name in _routes() if verb == method.upper() and regex.fullmatch(path)]
    # a literal segment beats a label: /durable-executions/{Arn}/history over a greedy match
    return min(matches, key=lambda name: operation(name).http["requestUri"].count("{"), default=None)


def all_problems(operation_name: str, body: Any, headers: Mapping[str, str] | None = None, status: int = 200) -> list[str]:
    """output_problems, and for a history event_problems of every event."""
    problems = output_problems(operation_name, body, headers, status)
    if operation_name == "GetDurableExecutionHistory" and isinstance(body, dict):
        for index, event in enumerate(body.get("Events") or []):
            if isinstance(event, dict):
                problems += event_problems(event, f"{operation_name}.Events[{index}]")
    return problems


def check_output(operation_name: str, body: Any, headers: Mapping[str, str] | None = None, status: int = 200) -> None:
    """Raise ShapeError listing every difference all_problems finds."""
    problems = all_problems(operation_name, body, headers, status)
    if problems:
        raise ShapeError(f"{operation_name} reply differs from botocore's {SERVICE} model:\n  " + "\n  ".join(problems))
