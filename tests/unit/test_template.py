"""Offline checks of infra/template.yaml: the file that is deployed to AWS unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workshop.config import LOCAL_PARAMETERS_PATH, TEMPLATE_PATH
from workshop.provision import (
    SERVERLESS_FUNCTION,
    load_template,
    references,
    resolve_parameters,
    with_globals,
)

TEMPLATE = load_template(TEMPLATE_PATH)
# Each function as SAM reads it: Globals merged by SAM's own Globals plugin.
FUNCTIONS = {
    logical_id: resource["Properties"]
    for logical_id, resource in with_globals(TEMPLATE)["Resources"].items()
    if resource["Type"] == SERVERLESS_FUNCTION
}


def _statements(policies: list[Any]) -> list[dict[str, Any]]:
    found = []
    for policy in policies:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def test_template_is_sam_and_names_its_resources() -> None:
    assert TEMPLATE["Transform"] == "AWS::Serverless-2016-10-31"
    assert TEMPLATE["AWSTemplateFormatVersion"] == "2010-09-09"
    assert {"InventoryTable", "PaymentsTable", "WarehouseTimeoutParameter"} <= set(TEMPLATE["Resources"])
    assert set(FUNCTIONS) >= {"OrderSagaFunction", "PaymentFunction", "WarehouseFunction"}


def test_every_reference_points_at_something_declared() -> None:
    declared = set(TEMPLATE["Resources"]) | set(TEMPLATE.get("Parameters") or {})
    for section in ("Resources", "Outputs"):
        for name, body in TEMPLATE[section].items():
            unknown = {r for r in references(body) if not r.startswith("AWS::")} - declared
            assert not unknown, f"{section}.{name} refers to undeclared {unknown}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_handler_module_exists_under_code_uri(logical_id: str) -> None:
    props = FUNCTIONS[logical_id]
    code_dir = (TEMPLATE_PATH.parent / props["CodeUri"]).resolve()
    module, _, function = props["Handler"].rpartition(".")
    assert function, f"{logical_id}: Handler must be module.function"
    path = code_dir / (module.replace(".", "/") + ".py")
    assert path.is_file(), f"{logical_id}: handler module {path} does not exist"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_has_explicit_name_runtime_and_limits(logical_id: str) -> None:
    props = FUNCTIONS[logical_id]
    assert isinstance(props.get("FunctionName"), str), "explicit names keep local and AWS names alike"
    assert props["Runtime"] == "python3.13"
    assert props["Tracing"] == "Active"
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert 1 <= props["Timeout"] <= 900
    assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]


def test_no_wildcard_actions_in_inline_policies() -> None:
    for logical_id, props in FUNCTIONS.items():
        for statement in _statements(props.get("Policies") or []):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions), f"{logical_id}: {actions}"
            assert statement.get("Resource") != "*", f"{logical_id}: statement on every resource"


def test_saga_is_durable_and_outlives_the_warehouse_wait() -> None:
    saga = FUNCTIONS["OrderSagaFunction"]
    durable = saga["DurableConfig"]
    assert saga["AutoPublishAlias"] == "live"
    assert 1 <= durable["RetentionPeriodInDays"] <= 90
    warehouse_default = int(TEMPLATE["Parameters"]["WarehouseTimeoutSeconds"]["Default"])
    # The execution must last longer than its longest wait, or compensation never runs.
    assert durable["ExecutionTimeout"] > warehouse_default + saga["Timeout"] * 10
    assert durable["ExecutionTimeout"] <= 31_622_400


def test_saga_environment_names_its_collaborators() -> None:
    variables = FUNCTIONS["OrderSagaFunction"]["Environment"]["Variables"]
    assert variables["INVENTORY_TABLE"] == {"Ref": "InventoryTable"}
    assert variables["PAYMENTS_TABLE"] == {"Ref": "PaymentsTable"}
    assert variables["PAYMENT_FUNCTION"] == {"Ref": "PaymentFunction"}
    assert variables["WAREHOUSE_FUNCTION"] == {"Ref": "WarehouseFunction"}
    assert variables["WAREHOUSE_TIMEOUT_PARAM"] == {"Ref": "WarehouseTimeoutParameter"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "order-saga"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Workshop"


def test_warehouse_may_complete_only_the_saga_callbacks() -> None:
    """And read the saga's history, where it sees the saga suspended before it answers."""
    statements = _statements(FUNCTIONS["WarehouseFunction"]["Policies"])
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions == {
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:SendDurableExecutionCallbackFailure",
        "lambda:GetDurableExecutionHistory",
    }
    saga_name = FUNCTIONS["OrderSagaFunction"]["FunctionName"]
    for statement in statements:
        assert statement["Resource"]["Fn::Sub"].endswith(f":function:{saga_name}:*")


def test_warehouse_waits_for_the_suspension_within_its_timeout() -> None:
    warehouse = FUNCTIONS["WarehouseFunction"]
    wait_s = float(warehouse["Environment"]["Variables"]["WAREHOUSE_SUSPENSION_WAIT_SECONDS"])
    timeout_s = warehouse.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])
    assert 0 < wait_s < timeout_s - 5  # room left to answer after the wait


def test_ssm_read_policy_covers_the_declared_parameter() -> None:
    statements = _statements(FUNCTIONS["OrderSagaFunction"]["Policies"])
    resources = [s["Resource"]["Fn::Sub"] for s in statements if "ssm:GetParameter" in s["Action"]]
    assert resources == [
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WarehouseTimeoutParameter}"
    ]
    assert TEMPLATE["Resources"]["WarehouseTimeoutParameter"]["Properties"]["Name"].startswith("/")


def test_local_parameters_are_declared_and_valid() -> None:
    local = json.loads(Path(LOCAL_PARAMETERS_PATH).read_text())
    values = resolve_parameters(TEMPLATE, local)
    assert int(values["WarehouseTimeoutSeconds"]) < int(TEMPLATE["Parameters"]["WarehouseTimeoutSeconds"]["Default"])


def test_only_serverless_functions_carry_code() -> None:
    kinds = {resource["Type"] for resource in TEMPLATE["Resources"].values()}
    assert "AWS::Lambda::Function" not in kinds, "use AWS::Serverless::Function so Globals and the registry apply"
    assert SERVERLESS_FUNCTION in kinds
