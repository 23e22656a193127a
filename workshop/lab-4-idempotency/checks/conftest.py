"""Fixtures for lab 4's stage checks (see workshop/labs/pytest_plugin.py; in-process: workshop/labs/harness/ingest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from workshop.config import boto3_client
from workshop.labs.harness.live import LiveFunction, deploy, ensure_stack
from workshop.labs.model import Lab
from workshop.labs.pytest_plugin import lab_at, lab_handler, target  # noqa: F401

lab = lab_at(__file__)


@dataclass
class FirstDelivery:
    """The batch the live check delivers twice, its first delivery already started on the stack."""

    function: LiveFunction
    event: dict[str, Any]
    record_ids: list[str]
    arn: str
    read: bool = False


@pytest.fixture(scope="session", autouse=True)
def first_delivery(request: pytest.FixtureRequest) -> Iterator[FirstDelivery | None]:
    """The live check's first delivery, started before the first check: it runs on the stack while the
    in-process checks run here (one after the other, the checks alone took a second longer).
    Stopped at the end if no check read it."""
    if not any("live_deliveries" in getattr(item, "fixturenames", ()) for item in request.session.items):
        yield None
        return
    from workshop.config import StackConfig
    from workshop.tools.ingest_tools import sqs_event, valid_record

    lab, target = request.getfixturevalue("lab"), request.getfixturevalue("target")
    config = StackConfig()
    run_id = f"lab4-live-{uuid.uuid4().hex[:8]}"
    event = sqs_event([json.dumps(valid_record(run_id, n)) for n in (1, 2)])
    ensure_stack(config)
    function = deploy(lab, target, config)
    first = FirstDelivery(function, event, [f"{run_id}-{n:05d}" for n in (1, 2)], function.start(event))
    yield first
    if not first.read:
        try:
            boto3_client("lambda", config).stop_durable_execution(DurableExecutionArn=first.arn, Error={"ErrorType": "LabChecksEnded", "ErrorMessage": "not read"})
        except Exception:  # noqa: BLE001 - it ended meanwhile
            pass


@pytest.fixture(scope="session")
def live_deliveries(lab: Lab, first_delivery: FirstDelivery | None):
    """Two real executions of one SQS-shaped event on the local stack; the ledger's writes afterwards.

    The lab's function uses the stack's ledger table (from the ingest function's
    environment); the record ids are new on every run.
    """
    from workshop import registry

    assert first_delivery is not None  # started for every session that collects this fixture
    first_delivery.read = True
    function = first_delivery.function
    runs = [function.read(first_delivery.arn), function.run(first_delivery.event)]
    table = registry.function(function.config, lab.base_function)["environment"]["LEDGER_TABLE"]
    dynamodb = boto3_client("dynamodb", function.config)
    writes = {}
    for rid in first_delivery.record_ids:
        item = dynamodb.get_item(TableName=table, Key={"record_id": {"S": rid}}, ConsistentRead=True).get("Item")
        writes[rid] = int(item["writes"]["N"]) if item else 0
    return runs, writes
