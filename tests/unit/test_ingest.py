"""The SQS ingest function, in-process: DurableFunctionTestRunner + the AWS fakes.

Each ``run`` is one durable execution, as one SQS delivery of one batch makes
on AWS: a duplicate "in a later delivery" is simply a second run. The real
Powertools DynamoDB persistence layer runs against the fake DynamoDB (its
conditional put, get, update and delete), so what is asserted here is what
the idempotency table does on AWS.

What is asserted: the batch response (``batchItemFailures``), the operations
the execution recorded, and the three tables: ``writes`` in the ledger is the
number of times a record was posted (1, or the test fails), the rejections
table holds the reason for every message that goes back to the queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_durable_execution_sdk_python.execution import InvocationStatus
from aws_durable_execution_sdk_python.serdes import EXTENDED_TYPES_SERDES
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
)
from botocore.exceptions import ClientError

from _shared import clients

from ingest import enrichment, handler, idempotency, models
from workshop.tools.ingest_tools import MALFORMED_TEMPLATES, make_workload, sqs_event, valid_record

LEDGER, IDEMPOTENCY, REJECTIONS = "ledger", "idempotency", "rejections"

# Replays that add no metric make Powertools warn "No application metrics to publish".
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DEADLINE = 30


@pytest.fixture
def ingest(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[DurableFunctionTestRunner]:
    """A runner for the ingest handler, its clients on the fakes, the three tables named."""
    for name, value in {"LEDGER_TABLE": LEDGER, "IDEMPOTENCY_TABLE": IDEMPOTENCY, "REJECTIONS_TABLE": REJECTIONS}.items():
        monkeypatch.setenv(name, value)
    clients.use_factory(aws.client)
    runner = DurableFunctionTestRunner(handler=handler.lambda_handler, poll_interval=0.05)
    try:
        yield runner
    finally:
        runner.close()
        clients.use_factory(None)


# ------------------------------------------------------------------- helpers
def record(n: int, **changes: Any) -> str:
    return json.dumps({**valid_record("t", n), **changes})


def run(runner: DurableFunctionTestRunner, bodies: list[str], ids: list[str], receive_count: int = 1) -> DurableFunctionTestResult:
    event = sqs_event(bodies, receive_count=receive_count, message_ids=ids)
    return runner.run(input=json.dumps(event), execution_timeout=DEADLINE)


def failures(result: DurableFunctionTestResult) -> list[str]:
    assert result.status is InvocationStatus.SUCCEEDED, result.error
    response = json.loads(result.result or "null")
    assert set(response) == {"batchItemFailures"}, "the poller reads only batchItemFailures"
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def names(result: DurableFunctionTestResult) -> list[str | None]:
    return [operation.name for operation in result.operations]


def step_result(result: DurableFunctionTestResult, name: str) -> Any:
    return EXTENDED_TYPES_SERDES.deserialize(result.get_step(name).result)


def ledger(aws: Any) -> dict[str, int]:
    """record_id -> how many times it was posted."""
    return {key: int(item["writes"]["N"]) for key, item in aws.dynamodb.items(LEDGER).items()}


def idempotency_statuses(aws: Any) -> list[str]:
    return sorted(item["status"]["S"] for item in aws.dynamodb.items(IDEMPOTENCY).values())


# ---------------------------------------------------------------- the happy path
def test_valid_batch_is_enriched_and_posted_once(ingest: DurableFunctionTestRunner, aws: Any) -> None:
    result = run(ingest, [record(1), record(2, currency="USD", amount="-20000.00")], ["m-1", "m-2"])

    assert failures(result) == []
    assert names(result) == ["enrich:t-00001", "post:t-00001", "enrich:t-00002", "post:t-00002"]
    assert ledger(aws) == {"t-00001": 1, "t-00002": 1}
    item = aws.dynamodb.items(LEDGER)["t-00002"]
    assert item["amount_eur"] == {"N": "-18400.00"} and item["band"] == {"S": "large"}
    assert item["message_id"] == {"S": "m-2"}
    assert step_result(result, "post:t-00001") == {
        "record_id": "t-00001", "message_id": "m-1", "amount_eur": json.loads(record(1))["amount"], "writes": 1,
    }  # fmt: skip
    assert idempotency_statuses(aws) == ["COMPLETED", "COMPLETED"]
    assert aws.dynamodb.items(REJECTIONS) == {}


# -------------------------------------------------------------------- duplicates
def test_duplicate_in_a_later_delivery_is_not_posted_again(ingest: DurableFunctionTestRunner, aws: Any) -> None:
    assert failures(run(ingest, [record(1)], ["m-1"])) == []
    # The same business record in another message, in another batch: a new execution.
    second = run(ingest, [record(1), record(2)], ["m-1-again", "m-2"])

    assert failures(second) == []
    assert ledger(aws) == {"t-00001": 1, "t-00002": 1}
    assert step_result(second, "post:t-00001")["duplicate"] is True
    assert step_result(second, "post:t-00001")["message_id"] == "m-1"  # the first post's stored result
    assert "duplicate" not in step_result(second, "post:t-00002")
    # the ledger entry still names the message that posted it
    assert aws.dynamodb.items(LEDGER)["t-00001"]["message_id"] == {"S": "m-1"}


def test_duplicates_in_one_batch_post_once_and_all_leave_the_queue(ingest: DurableFunctionTestRunner, aws: Any) -> None:
    result = run(ingest, [record(1), record(1), record(1)], ["m-a", "m-b", "m-c"])

    assert failures(result) == []
    assert ledger(aws) == {"t-00001": 1}
    posts = [EXTENDED_TYPES_SERDES.deserialize(op.result) for op in result.operations if op.name == "post:t-00001"]
    assert [post.get("duplicate", False) for post in posts] == [False, True, True]


def test_redelivered_batch_posts_nothing_twice(ingest: DurableFunctionTestRunner, aws: Any) -> None:
    """The whole batch again (a visibility timeout passed, a function error): one write per record."""
    bodies, ids = [record(1), record(2), "not json"], ["m-1", "m-2", "m-bad"]
    assert failures(run(ingest, bodies, ids)) == ["m-bad"]
    again = run(ingest, bodies, ids, receive_count=2)

    assert failures(again) == ["m-bad"]
    assert ledger(aws) == {"t-00001": 1, "t-00002": 1}
    assert all(step_result(again, f"post:t-0000{n}")["duplicate"] for n in (1, 2))


def test_conflicting_duplicate_goes_to_the_dlq_with_its_reason(ingest: DurableFunctionTestRunner, aws: Any) -> None:
    """Same record id, other business fields: not a duplicate to drop silently, a conflict."""
    assert failures(run(ingest, [record(1)], ["m-1"])) == []
    result = run(ingest, [record(1, amount="999.99"), record(2)], ["m-conflict", "m-2"])

    assert failures(result) == ["m-conflict"]
    assert ledger(aws) == {"t-00001": 1, "t-00002": 1}
    assert aws.dynamodb.value(LEDGER, "t-00001", "amount") == json.loads(record(1))["amount"]  # unchanged
    reason = aws.dynamodb.value(REJECTIONS, "m-conflict", "reason")
    assert reason.startswith("conflict: ") and "payload" in reason.lower()
    assert aws.dynamodb.value(REJECTIONS, "m-conflict", "record_id") == "t-00001"


# -------------------------------------------------------------- malformed records
def test_malformed_record_is_reported_and_the_good_ones_are_posted_once(
    ingest: DurableFunctionTestRunner, aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bad = record(9, amount="0")
    result = run(ingest, [record(1), bad, record(2)], ["m-1", "m-bad", "m-2"], receive_count=3)

    assert failures(result) == ["m-bad"]
    # nothing of the bad record was written: no ledger entry, no idempotency record, no step
    assert ledger(aws) == {"t-00001": 1, "t-00002": 1}
    assert len(aws.dynamodb.items(IDEMPOTENCY)) == 2
    assert names(result) == ["enrich:t-00001", "post:t-00001", "reject:m-bad", "enrich:t-00002", "post:t-00002"]
    # the reason, where whoever reads the DLQ finds it: the rejections table and the log line
    rejection = aws.dynamodb.items(REJECTIONS)["m-bad"]
    assert rejection["reason"] == {"S": "amount: Value error, amount must not be zero"}
    assert rejection["record_id"] == {"S": "t-00009"}
    assert rejection["receive_count"] == {"N": "3"}
    assert int(rejection["expiration"]["N"]) > datetime.now(UTC).timestamp()
    logged = [r for r in caplog.records if r.getMessage() == "Record rejected"]
    assert [(r.messageId, r.reason) for r in logged] == [("m-bad", rejection["reason"]["S"])]  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind, template", MALFORMED_TEMPLATES, ids=[kind for kind, _ in MALFORMED_TEMPLATES])
def test_every_kind_of_malformed_body_is_rejected_before_any_write(
    ingest: DurableFunctionTestRunner, aws: Any, kind: str, template: str
) -> None:
    result = run(ingest, [template.format(run="t", n=1)], ["m-bad"])

    assert failures(result) == ["m-bad"]
    assert names(result) == ["reject:m-bad"]
    assert ledger(aws) == {} and aws.dynamodb.items(IDEMPOTENCY) == {}
    assert aws.dynamodb.value(REJECTIONS, "m-bad", "reason")


def test_an_event_that_is_not_an_sqs_batch_fails_the_execution(ingest: DurableFunctionTestRunner, aws: Any) -> None:
    result = ingest.run(input=json.dumps({"record_id": "t-1"}), execution_timeout=DEADLINE)

    assert result.status is InvocationStatus.FAILED
    assert "not an SQS batch" in (result.error.message or "")
    assert ledger(aws) == {}


# ------------------------------------------------------ failures while posting
def test_record_being_posted_elsewhere_is_retried_then_handed_back(ingest: DurableFunctionTestRunner, aws: Any) -> None:
    """Another execution holds the record (INPROGRESS, not expired): retry, then let SQS redeliver."""
    assert failures(run(ingest, [record(1)], ["m-1"])) == []  # configures the store: keys can be computed
    # What an execution that started posting t-00002 a moment ago left: INPROGRESS for an hour.
    entry = enrichment.enrich(models.parse_record(record(2)), "m-elsewhere")
    idempotency.store.save_inprogress(data=entry, remaining_time_in_millis=3_600_000)

    result = run(ingest, [record(2), record(3)], ["m-2", "m-3"])

    assert failures(result) == ["m-2"]
    assert ledger(aws) == {"t-00001": 1, "t-00003": 1}
    post = result.get_step("post:t-00002")
    assert post.attempt == 6 and "already in progress" in (post.error.message or "")


def test_a_failed_write_leaves_nothing_behind_and_the_redelivery_posts_it(
    ingest: DurableFunctionTestRunner, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_update = aws.dynamodb.update_item

    def broken_ledger(**kwargs: Any) -> dict:
        if kwargs["TableName"] == LEDGER and kwargs["Key"]["record_id"]["S"] == "t-00002":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem")
        return real_update(**kwargs)

    monkeypatch.setattr(aws.dynamodb, "update_item", broken_ledger)
    result = run(ingest, [record(1), record(2)], ["m-1", "m-2"])

    assert failures(result) == ["m-2"]
    assert ledger(aws) == {"t-00001": 1}
    # Powertools deleted the in-progress record of the failed write: a redelivery may post it
    assert idempotency_statuses(aws) == ["COMPLETED"]

    monkeypatch.setattr(aws.dynamodb, "update_item", real_update)
    assert failures(run(ingest, [record(2)], ["m-2"], receive_count=2)) == []
    assert ledger(aws) == {"t-00001": 1, "t-00002": 1}


def test_a_record_whose_handling_raises_comes_back_alone(
    ingest: DurableFunctionTestRunner, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Batch utility: an error the flow does not expect fails that message, not the execution.

    The enrich step of t-00002 fails for good (its retries spent); nothing in
    ``ingest`` catches that. Without the Batch utility the execution failed and
    the whole batch came back, t-00001 and t-00003 with it.
    """
    real_enrich = enrichment.enrich

    def broken_enrich(record: Any, message_id: str) -> dict[str, Any]:
        if record.record_id == "t-00002":
            raise RuntimeError("rate service down")
        return real_enrich(record, message_id)

    monkeypatch.setattr(enrichment, "enrich", broken_enrich)
    result = run(ingest, [record(1), record(2), record(3)], ["m-1", "m-2", "m-3"])

    assert failures(result) == ["m-2"]
    assert ledger(aws) == {"t-00001": 1, "t-00003": 1}


# ------------------------------------------------------------- building blocks
def test_every_accepted_currency_has_a_rate() -> None:
    assert set(models.Currency.__args__) == set(enrichment.RATES_TO_EUR)  # type: ignore[attr-defined]


def test_equal_records_enrich_to_equal_business_fields() -> None:
    """Payload validation compares these fields: formatting must not make a duplicate a conflict."""
    a = models.parse_record(record(1, amount="12.5", occurred_at="2026-11-01T11:00:00+01:00"))
    b = models.parse_record(record(1, amount=12.50, occurred_at="2026-11-01T10:00:00Z"))
    fields = ("record_id", "account_id", "amount", "currency", "occurred_at")
    ea, eb = enrichment.enrich(a, "m-a"), enrichment.enrich(b, "m-b")
    assert [ea[f] for f in fields] == [eb[f] for f in fields]


def test_workload_has_the_asked_shares() -> None:
    work = make_workload(200, duplicates=0.2, malformed=0.05, run_id="w")
    assert len(work.bodies) == 200 and work.duplicates == 40 and len(work.malformed_bodies) == 10
    assert len(work.unique_record_ids) == 150
    batch = models.parse_batch(sqs_event(work.bodies))
    assert len(batch.rejected) == 10
    assert {m.record.record_id for m in batch.accepted} == work.unique_record_ids


def test_post_once_returns_the_first_post_instead_of_counting_the_record_again(aws, monkeypatch):
    """The crash window idempotency leaves (written, never marked COMPLETED) is closed by the table."""
    from ingest import ledger

    monkeypatch.setenv("LEDGER_TABLE", "ledger")
    entry = {
        "record_id": "rec-once", "account_id": "acc-1", "amount": "10.00", "currency": "EUR",
        "occurred_at": "2026-11-01T10:00:00+00:00", "amount_eur": "10.00", "fx_rate": "1", "band": "standard",
        "message_id": "m-first", "ingested_at": "2026-11-01T10:00:01+00:00",
    }  # fmt: skip
    first = ledger.post_once(entry)
    again = ledger.post_once({**entry, "message_id": "m-redelivered"})
    assert first["writes"] == 1
    assert again == {**first, "writes": 1}  # the first post, its message id included
    plain = ledger.post(entry)
    assert plain["writes"] == 2  # ledger.post itself still counts every call: the labs' starters rely on it
