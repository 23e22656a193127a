"""Fixtures for lab 4's stage checks (see workshop/labs/pytest_plugin.py and ingest_run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.labs.model import Lab, load_lab
from workshop.labs.pytest_plugin import lab_handler, target  # noqa: F401


# Replays that add no metric make Powertools warn "No application metrics to publish".
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(scope="session")
def lab() -> Lab:
    return load_lab(Path(__file__).resolve().parent.parent)


@pytest.fixture(scope="session")
def live_deliveries(lab: Lab, target: str):
    """Two real executions of one SQS-shaped event on the local stack; the ledger's writes afterwards.

    The lab's function uses the stack's ledger table (from the ingest function's
    environment); the record ids are new on every run.
    """
    import json
    import uuid

    from workshop import stack
    from workshop.config import StackConfig, boto3_client
    from workshop.tools.ingest_tools import sqs_event, valid_record
    from workshop import registry
    from workshop.labs.run import run_live

    config = StackConfig()
    if not stack.status(config, say=lambda line: None):
        stack.up(config, say=lambda line: None)
    name = lab.function_name if target == "learner" else f"{lab.function_name}-{target}"
    registry.register_copy(config, name, str(lab.handler_path(target).parent), lab.base_function, lab.env_overrides)
    run_id = f"lab4-live-{uuid.uuid4().hex[:8]}"
    record_ids = [f"{run_id}-{n:05d}" for n in (1, 2)]
    event = sqs_event([json.dumps(valid_record(run_id, n)) for n in (1, 2)])
    runs = [run_live(config, name, event) for _ in range(2)]
    table = registry.function(config, lab.base_function)["environment"]["LEDGER_TABLE"]
    dynamodb = boto3_client("dynamodb", config)
    writes = {}
    for rid in record_ids:
        item = dynamodb.get_item(TableName=table, Key={"record_id": {"S": rid}}, ConsistentRead=True).get("Item")
        writes[rid] = int(item["writes"]["N"]) if item else 0
    return runs, writes
