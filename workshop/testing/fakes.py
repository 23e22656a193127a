"""In-process fakes of the AWS clients the services use: no network, no emulator.

Shared by the unit tests and the labs' stage checks (both install them with
``_shared.clients.use_factory``), so a lab's behaviour checks run in
seconds under ``DurableFunctionTestRunner``.

- ``FakeDynamoDB``: put_item / get_item / update_item with the subset of the
  expression language the services use (SET with ``a = b``, ``a = b + :v``,
  ``a = b - :v``; ADD; conditions with comparisons, ``attribute_exists``,
  ``attribute_not_exists``, joined by AND/OR, with parentheses); put_item
  takes a condition too (Powertools Idempotency's), and delete_item. A failed
  condition raises the same ``ClientError`` (ConditionalCheckFailedException)
  as boto3, with the old item when ``ReturnValuesOnConditionCheckFailure``
  asks for it.
- ``FakeSSM``: get_parameter.
- ``FakeSecretsManager``: get_secret_value of plain-string secrets.
- ``FakeLambda``: ``invoke(InvocationType="Event")`` runs a registered handler
  on a thread (an async invoke); the durable-callback APIs are forwarded to a
  ``DurableFunctionTestRunner``.

Every fake appends to one shared ``journal`` so tests can assert the order of
side effects across services (refund before release, ...).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


def _client_error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# ----------------------------------------------------------------- DynamoDB
def _number(cell: dict[str, str]) -> float:
    return float(cell["N"])


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _compare(left: dict | None, op: str, right: dict | None) -> bool:
    if left is None or right is None:
        return False
    if "N" in left and "N" in right:
        a, b = _number(left), _number(right)
    else:
        a, b = next(iter(left.values())), next(iter(right.values()))
    return {
        "=": a == b,
        "<>": a != b,
        ">=": a >= b,
        "<=": a <= b,
        ">": a > b,
        "<": a < b,
    }[op]


class FakeDynamoDB:
    """Tables of items in DynamoDB JSON, keyed by table name then partition key value."""

    KEYS = {
        "inventory": "sku", "payments": "order_id", "approvals": "request_id",
        "ledger": "record_id", "idempotency": "id", "rejections": "message_id",
    }  # fmt: skip

    def __init__(self, journal: list[tuple], key_names: dict[str, str] | None = None) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.key_names = dict(key_names or self.KEYS)
        self.journal = journal
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    # helpers for tests
    def value(self, table: str, key: str, attribute: str) -> Any:
        cell = self.tables.get(table, {}).get(key, {}).get(attribute)
        if cell is None:
            return None
        if "N" in cell:
            return int(cell["N"]) if re.fullmatch(r"-?\d+", cell["N"]) else cell["N"]
        return next(iter(cell.values()))

    def items(self, table: str) -> dict[str, dict[str, Any]]:
        return self.tables.get(table, {})

    # API
    def _key(self, table: str, key: dict[str, dict]) -> str:
        name = self.key_names[table]
        return key[name]["S"]

    def put_item(
        self,
        TableName: str,
        Item: dict,
        ConditionExpression: str | None = None,
        ExpressionAttributeNames: dict | None = None,
        ExpressionAttributeValues: dict | None = None,
        ReturnValuesOnConditionCheckFailure: str = "NONE",
        **_: Any,
    ) -> dict:
        with self._lock:
            self.calls.append(("put_item", {"TableName": TableName, "Item": Item}))
            table = self.tables.setdefault(TableName, {})
            key = self._key(TableName, Item)
            current = table.get(key) or {}
            names, values = ExpressionAttributeNames or {}, ExpressionAttributeValues or {}
            if ConditionExpression and not self._condition(ConditionExpression, current, names, values):
                error = _client_error("ConditionalCheckFailedException", "The conditional request failed", "PutItem")
                if ReturnValuesOnConditionCheckFailure == "ALL_OLD" and current:
                    error.response["Item"] = json.loads(json.dumps(current))  # type: ignore[typeddict-unknown-key]
                raise error
            table[key] = json.loads(json.dumps(Item))
        return {}

    def delete_item(self, TableName: str, Key: dict, **_: Any) -> dict:
        with self._lock:
            self.calls.append(("delete_item", {"TableName": TableName, "Key": Key}))
            self.tables.get(TableName, {}).pop(self._key(TableName, Key), None)
            self.journal.append(("dynamodb.delete_item", TableName, self._key(TableName, Key)))
        return {}

    def get_item(self, TableName: str, Key: dict, **_: Any) -> dict:
        with self._lock:
            self.calls.append(("get_item", {"TableName": TableName, "Key": Key}))
            item = self.tables.get(TableName, {}).get(self._key(TableName, Key))
            return {"Item": json.loads(json.dumps(item))} if item else {}

    def update_item(
        self,
        TableName: str,
        Key: dict,
        UpdateExpression: str,
        ExpressionAttributeValues: dict | None = None,
        ExpressionAttributeNames: dict | None = None,
        ConditionExpression: str | None = None,
        ReturnValues: str = "NONE",
        **_: Any,
    ) -> dict:
        names = ExpressionAttributeNames or {}
        values = ExpressionAttributeValues or {}
        with self._lock:
            self.calls.append(("update_item", {"TableName": TableName, "Key": Key, "UpdateExpression": UpdateExpression}))
            table = self.tables.setdefault(TableName, {})
            key = self._key(TableName, Key)
            current = json.loads(json.dumps(table.get(key) or {}))
            if ConditionExpression and not self._condition(ConditionExpression, current, names, values):
                raise _client_error("ConditionalCheckFailedException", "The conditional request failed", "UpdateItem")
            updated = current or json.loads(json.dumps(Key))
            self._apply(UpdateExpression, updated, names, values)
            table[key] = updated
            self.journal.append(("dynamodb.update_item", TableName, key, UpdateExpression))
            return {"Attributes": json.loads(json.dumps(updated))} if ReturnValues == "ALL_NEW" else {}

    # expression language (the subset the services use)
    @staticmethod
    def _name(token: str, names: dict[str, str]) -> str:
        return names.get(token, token)

    def _operand(self, token: str, item: dict, names: dict, values: dict) -> dict | None:
        token = token.strip()
        if token.startswith(":"):
            return values[token]
        return item.get(self._name(token, names))

    def _condition(self, expression: str, item: dict, names: dict, values: dict) -> bool:
        def atom(text: str) -> bool:
            text = text.strip()
            if match := re.fullmatch(r"attribute_(not_)?exists\((\S+)\)", text):
                exists = self._name(match.group(2), names) in item
                return not exists if match.group(1) else exists
            match = re.fullmatch(r"(\S+)\s*(>=|<=|<>|=|>|<)\s*(\S+)", text)
            if not match:
                raise NotImplementedError(f"fake DynamoDB: condition {text!r}")
            left = self._operand(match.group(1), item, names, values)
            right = self._operand(match.group(3), item, names, values)
            return _compare(left, match.group(2), right)

        def split(text: str, separator: str) -> list[str]:
            """Split at ``separator`` outside parentheses."""
            parts, depth, start = [], 0, 0
            for index, char in enumerate(text):
                depth += {"(": 1, ")": -1}.get(char, 0)
                if depth == 0 and text.startswith(separator, index):
                    parts.append(text[start:index])
                    start = index + len(separator)
            return [*parts, text[start:]]

        def evaluate(text: str) -> bool:
            text = text.strip()
            if len(alternatives := split(text, " OR ")) > 1:
                return any(evaluate(part) for part in alternatives)
            if len(conjuncts := split(text, " AND ")) > 1:
                return all(evaluate(part) for part in conjuncts)
            if text.startswith("(") and text.endswith(")"):
                return evaluate(text[1:-1])
            return atom(text)

        return evaluate(expression)

    def _apply(self, expression: str, item: dict, names: dict, values: dict) -> None:
        for action, body in re.findall(r"(SET|ADD)\s+(.*?)(?=\s+(?:SET|ADD)\s+|$)", expression.strip()):
            for clause in (c.strip() for c in body.split(",")):
                if action == "ADD":
                    path, token = clause.split()
                    name = self._name(path, names)
                    base = _number(item[name]) if name in item else 0.0
                    item[name] = {"N": _format_number(base + _number(values[token]))}
                    continue
                path, operand = (part.strip() for part in clause.split("=", 1))
                name = self._name(path, names)
                if match := re.fullmatch(r"(\S+)\s*([+-])\s*(\S+)", operand):
                    left = self._operand(match.group(1), item, names, values)
                    right = self._operand(match.group(3), item, names, values)
                    if left is None or right is None:
                        raise _client_error("ValidationException", "operand missing", "UpdateItem")
                    sign = 1 if match.group(2) == "+" else -1
                    item[name] = {"N": _format_number(_number(left) + sign * _number(right))}
                else:
                    value = self._operand(operand, item, names, values)
                    if value is None:
                        raise _client_error("ValidationException", "operand missing", "UpdateItem")
                    item[name] = value


# ---------------------------------------------------------------------- SSM
class FakeSSM:
    def __init__(self, journal: list[tuple]) -> None:
        self.parameters: dict[str, str] = {}
        self.reads: list[str] = []
        self.journal = journal

    def get_parameter(self, Name: str, WithDecryption: bool = False, **_: Any) -> dict:
        self.reads.append(Name)
        self.journal.append(("ssm.get_parameter", Name))
        if Name not in self.parameters:
            raise _client_error("ParameterNotFound", f"{Name} not found", "GetParameter")
        return {"Parameter": {"Name": Name, "Type": "String", "Value": self.parameters[Name]}}


# ---------------------------------------------------------- Secrets Manager
class FakeSecretsManager:
    """get_secret_value of plain-string secrets (the approval service's notification token)."""

    def __init__(self, journal: list[tuple]) -> None:
        self.secrets: dict[str, str] = {}
        self.reads: list[str] = []
        self.journal = journal

    def get_secret_value(self, SecretId: str, **_: Any) -> dict:
        self.reads.append(SecretId)
        self.journal.append(("secretsmanager.get_secret_value", SecretId))  # the id, never the value
        if SecretId not in self.secrets:
            raise _client_error("ResourceNotFoundException", f"Secret {SecretId} not found", "GetSecretValue")
        return {"ARN": SecretId, "Name": SecretId, "SecretString": self.secrets[SecretId], "VersionId": "v1"}


# ------------------------------------------------------------------- Lambda
class FakeLambda:
    """Async invokes run registered handlers on threads; callbacks go to the test runner."""

    def __init__(self, journal: list[tuple]) -> None:
        self.handlers: dict[str, Callable[[dict, Any], Any]] = {}
        self.invocations: list[dict[str, Any]] = []
        self.callback_answers: list[tuple[str, str]] = []
        self.runner: Any = None  # a DurableFunctionTestRunner, set by the test
        self.journal = journal
        self._threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def register(self, function_name: str, handler: Callable[[dict, Any], Any]) -> None:
        self.handlers[function_name] = handler

    def invoke(self, FunctionName: str, Payload: bytes = b"", InvocationType: str = "RequestResponse", **_: Any) -> dict:
        event = json.loads(Payload or b"null")
        self.invocations.append({"FunctionName": FunctionName, "InvocationType": InvocationType, "event": event})
        self.journal.append(("lambda.invoke", FunctionName, InvocationType))
        if InvocationType != "Event":
            raise NotImplementedError("fake Lambda: only asynchronous invokes are modelled")
        handler = self.handlers.get(FunctionName)
        if handler is None:
            raise _client_error("ResourceNotFoundException", f"Function not found: {FunctionName}", "Invoke")

        from aws_durable_execution_sdk_python_testing.invoker import create_test_lambda_context

        def run() -> None:
            try:
                handler(event, create_test_lambda_context(function_name=FunctionName))
            except BaseException as error:  # noqa: BLE001 - surfaced by the fixture
                self.errors.append(error)

        thread = threading.Thread(target=run, name=f"fake-async-invoke-{FunctionName}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return {"StatusCode": 202}

    def send_durable_execution_callback_success(self, CallbackId: str, Result: bytes = b"", **_: Any) -> dict:
        self.callback_answers.append(("success", CallbackId))
        self.journal.append(("lambda.callback_success", CallbackId))
        try:
            self.runner.send_callback_success(callback_id=CallbackId, result=Result)
        except Exception as error:
            raise _client_error("ResourceNotFoundException", str(error), "SendDurableExecutionCallbackSuccess") from error
        return {}

    def send_durable_execution_callback_failure(self, CallbackId: str, Error: dict | None = None, **_: Any) -> dict:
        from aws_durable_execution_sdk_python.lambda_service import ErrorObject

        self.callback_answers.append(("failure", CallbackId))
        self.journal.append(("lambda.callback_failure", CallbackId))
        error = Error or {}
        try:
            self.runner.send_callback_failure(
                callback_id=CallbackId,
                error=ErrorObject(
                    message=error.get("ErrorMessage"),
                    type=error.get("ErrorType"),
                    data=error.get("ErrorData"),
                    stack_trace=None,
                ),
            )
        except Exception as exc:
            raise _client_error("ResourceNotFoundException", str(exc), "SendDurableExecutionCallbackFailure") from exc
        return {}

    def join(self, timeout: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(timeout)


class FakeAWS:
    """The fakes, wired into ``order_saga.clients``."""

    def __init__(self) -> None:
        self.journal: list[tuple] = []
        self.dynamodb = FakeDynamoDB(self.journal)
        self.ssm = FakeSSM(self.journal)
        self.lambda_ = FakeLambda(self.journal)
        self.secretsmanager = FakeSecretsManager(self.journal)

    def client(self, service_name: str) -> Any:
        return {"dynamodb": self.dynamodb, "ssm": self.ssm, "lambda": self.lambda_, "secretsmanager": self.secretsmanager}[service_name]
