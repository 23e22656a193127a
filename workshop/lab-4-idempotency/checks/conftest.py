"""Fixtures for lab 4's stage checks (see workshop/labs/pytest_plugin.py; in-process: workshop/labs/harness/ingest.py)."""

from __future__ import annotations

import pytest

from workshop.labs.harness.live import live_run
from workshop.labs.model import Lab
from workshop.labs.pytest_plugin import lab_at, lab_handler, target  # noqa: F401

lab = lab_at(__file__)


@pytest.fixture(scope="session")
def live_deliveries(lab: Lab, target: str):
    """Two real executions of one SQS-shaped event on the local stack; the ledger's writes afterwards.

    The lab's function uses the stack's ledger table (from the ingest function's
    environment); the record ids are new on every run.
    """
    import json
    import uuid

    from workshop import registry
    from workshop.config import StackConfig, boto3_client
    from workshop.tools.ingest_tools import sqs_event, valid_record

    config = StackConfig()
    run_id = f"lab4-live-{uuid.uuid4().hex[:8]}"
    record_ids = [f"{run_id}-{n:05d}" for n in (1, 2)]
    event = sqs_event([json.dumps(valid_record(run_id, n)) for n in (1, 2)])
    runs = [live_run(lab, target, event, config) for _ in range(2)]
    table = registry.function(config, lab.base_function)["environment"]["LEDGER_TABLE"]
    dynamodb = boto3_client("dynamodb", config)
    writes = {}
    for rid in record_ids:
        item = dynamodb.get_item(TableName=table, Key={"record_id": {"S": rid}}, ConsistentRead=True).get("Item")
        writes[rid] = int(item["writes"]["N"]) if item else 0
    return runs, writes
