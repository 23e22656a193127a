"""Offline checks of the "SQS ingest" section of infra/template.yaml: the ESM realities in numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workshop.config import LOCAL_PARAMETERS_PATH, TEMPLATE_PATH
from workshop.provision import SERVERLESS_FUNCTION, load_template, resolve_parameters, with_globals

TEMPLATE = load_template(TEMPLATE_PATH)
RESOURCES = TEMPLATE["Resources"]
INGEST = with_globals(TEMPLATE)["Resources"]["IngestFunction"]["Properties"]  # Globals merged, as SAM does
QUEUE = RESOURCES["IngestQueue"]["Properties"]

ESM_SYNC_INVOKE_CAP_S = 900


def _statements() -> list[dict[str, Any]]:
    return [s for policy in INGEST["Policies"] if isinstance(policy, dict) for s in policy.get("Statement", [])]


def test_ingest_is_durable_and_ends_within_the_synchronous_invoke_cap() -> None:
    assert INGEST["FunctionName"] == "ingest"
    assert INGEST["AutoPublishAlias"] == "live"
    assert INGEST["DurableConfig"]["ExecutionTimeout"] <= ESM_SYNC_INVOKE_CAP_S


def test_queue_mapping_reports_partial_failures() -> None:
    [event] = INGEST["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= event["Properties"]["BatchSize"] <= 10


def test_queue_redrives_to_its_dlq_after_three_receives() -> None:
    policy = QUEUE["RedrivePolicy"]
    assert policy["maxReceiveCount"] == 3
    assert policy["deadLetterTargetArn"] == {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
    assert RESOURCES["IngestDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] > QUEUE["MessageRetentionPeriod"]


def test_visibility_timeout_outlasts_an_execution_on_aws_and_locally() -> None:
    """A batch still being processed must never be delivered again: its valid messages would reach the DLQ."""
    execution_timeout = INGEST["DurableConfig"]["ExecutionTimeout"]
    default = int(TEMPLATE["Parameters"]["IngestVisibilityTimeoutSeconds"]["Default"])
    assert default >= 6 * execution_timeout  # AWS's advice: six times what one invoke may take
    local = resolve_parameters(TEMPLATE, json.loads(Path(LOCAL_PARAMETERS_PATH).read_text()))
    assert int(local["IngestVisibilityTimeoutSeconds"]) >= execution_timeout


def test_idempotency_window_outlasts_the_queue_retention() -> None:
    variables = INGEST["Environment"]["Variables"]
    assert int(variables["IDEMPOTENCY_EXPIRES_AFTER_SECONDS"]) > QUEUE["MessageRetentionPeriod"]
    assert variables["IDEMPOTENCY_TABLE"] == {"Ref": "IngestIdempotencyTable"}
    assert variables["LEDGER_TABLE"] == {"Ref": "LedgerTable"}
    assert variables["REJECTIONS_TABLE"] == {"Ref": "IngestRejectionsTable"}


def test_tables_have_the_keys_and_ttl_the_code_uses() -> None:
    for logical_id, key, ttl in (
        ("LedgerTable", "record_id", None),
        ("IngestIdempotencyTable", "id", "expiration"),
        ("IngestRejectionsTable", "message_id", "expiration"),
    ):
        props = RESOURCES[logical_id]["Properties"]
        assert props["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
        if ttl:
            assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_ingest_may_touch_only_its_own_tables_with_the_calls_it_makes() -> None:
    granted = {
        statement["Resource"]["Fn::GetAtt"][0]: set(statement["Action"])
        for statement in _statements()
    }
    assert granted == {
        "LedgerTable": {"dynamodb:UpdateItem"},
        "IngestIdempotencyTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
        "IngestRejectionsTable": {"dynamodb:PutItem"},
    }
