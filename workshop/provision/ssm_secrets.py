"""SSM parameters and Secrets Manager secrets, with a local GenerateSecretString.

Together because both hold the stack's configuration values, and they differ in one
rule that is best read side by side: a parameter follows the template on every run, a
generated secret is made once and kept.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from botocore.exceptions import ClientError

from workshop.provision.intrinsics import _text, _truthy
from workshop.provision.resources import Clients, Outcome, _error_code
from workshop.provision.template import TemplateError


def _ssm_parameter(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    """Template values win on every run, as a CloudFormation update would."""
    ssm = clients.ssm
    name = props.get("Name") or clients.local_name(logical_id)
    kind = props.get("Type", "String")
    value = ",".join(props["Value"]) if isinstance(props["Value"], list) else _text(props["Value"])
    try:
        current = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ClientError as error:
        if _error_code(error) != "ParameterNotFound":
            raise
        current = None
    if current is not None and current["Value"] == value and current["Type"] == kind:
        status = "exists"
    else:
        kwargs: dict[str, Any] = {"Name": name, "Type": kind, "Value": value, "Overwrite": current is not None}
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        ssm.put_parameter(**kwargs)
        status = "created" if current is None else "updated"
    return Outcome(status, name, name, {"Type": kind, "Value": value})


def generate_secret_string(spec: dict[str, Any]) -> str:
    """A local stand-in for Secrets Manager's GenerateSecretString (same options)."""
    length = int(spec.get("PasswordLength", 32))
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    pools = [
        pool
        for flag, pool in (
            ("ExcludeLowercase", string.ascii_lowercase),
            ("ExcludeUppercase", string.ascii_uppercase),
            ("ExcludeNumbers", string.digits),
            ("ExcludePunctuation", string.punctuation),
        )
        if not _truthy(spec.get(flag, False))
    ]
    if _truthy(spec.get("IncludeSpace", False)):
        pools.append(" ")
    pools = ["".join(c for c in pool if c not in excluded) for pool in pools]
    pools = [pool for pool in pools if pool]
    if not pools:
        raise TemplateError("GenerateSecretString excludes every character")
    alphabet = "".join(pools)
    chars = [secrets.choice(pool) for pool in pools] if _truthy(spec.get("RequireEachIncludedType", True)) else []
    if len(chars) > length:
        raise TemplateError("GenerateSecretString: PasswordLength is shorter than the required character types")
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    password = "".join(chars)
    if "SecretStringTemplate" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)
    return password


def _secret(clients: Clients, logical_id: str, props: dict[str, Any]) -> Outcome:
    """An explicit SecretString is kept in step with the template; a generated one is made
    once and kept (as on AWS, where an update does not regenerate it). Values are never logged."""
    sm = clients.secretsmanager
    name = props.get("Name") or clients.local_name(logical_id)
    explicit = props.get("SecretString")
    try:
        arn = sm.describe_secret(SecretId=name)["ARN"]
    except ClientError as error:
        if _error_code(error) != "ResourceNotFoundException":
            raise
        value = (
            _text(explicit) if explicit is not None else generate_secret_string(props.get("GenerateSecretString") or {})
        )
        kwargs: dict[str, Any] = {"Name": name, "SecretString": value}
        if props.get("Description"):
            kwargs["Description"] = props["Description"]
        arn = sm.create_secret(**kwargs)["ARN"]
        return Outcome("created", name, arn, {"Id": arn})
    status = "exists"
    if explicit is not None and sm.get_secret_value(SecretId=arn).get("SecretString") != _text(explicit):
        sm.put_secret_value(SecretId=arn, SecretString=_text(explicit))
        status = "updated"
    return Outcome(status, name, arn, {"Id": arn})
