"""Lab 5: what the lab runner needs to know beyond its entry in workshop/labs/manifest.py (number, title, service)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from workshop.tools.ingest_tools import MALFORMED_TEMPLATES, sqs_event, valid_record
from workshop.labs.model import Stage

GOAL = (
    "Validate what enters the ingest function before any step runs: parse the SQS batch with "
    "Powertools Parser, validate each body with a model, and hand back only the malformed "
    "messages (batch item failures, then the DLQ, with the reason on record) while the good "
    "records of the same batch are posted once."
)
ENV_OVERRIDES: dict[str, str | None] = {}

# The stack's tables outlive a run: every load of this file makes a fresh run id, so the
# record ids and message ids of one live run are its own; checks reading make lab-5's
# execution get its run id (LAB_RUN_ID, workshop/labs/checks.py).
RUN_ID = os.environ.get("LAB_RUN_ID") or f"lab5-{uuid.uuid4().hex[:8]}"
_MALFORMED = dict(MALFORMED_TEMPLATES)

# (message id, what the body is, the body). Good and malformed bodies mixed in one batch;
# none of the malformed ones fails inside a step, so even the starter's run ends in seconds.
MESSAGES: list[tuple[str, str, str]] = [
    (f"{RUN_ID}-msg-1", "valid", json.dumps(valid_record(RUN_ID, 1))),
    (f"{RUN_ID}-msg-2", "zero amount", _MALFORMED["zero amount"].format(run=RUN_ID, n=2)),
    (f"{RUN_ID}-msg-3", "valid", json.dumps(valid_record(RUN_ID, 3))),
    (f"{RUN_ID}-msg-4", "missing amount", _MALFORMED["missing amount"].format(run=RUN_ID, n=4)),
    (f"{RUN_ID}-msg-5", "not json", _MALFORMED["not json"].format(run=RUN_ID, n=5)),
]
GOOD_RECORDS = {mid: json.loads(body)["record_id"] for mid, kind, body in MESSAGES if kind == "valid"}
MALFORMED = [mid for mid, kind, _ in MESSAGES if kind != "valid"]

# make lab-N checks the execution it just ran (the live check reads only that run, with its run id).
CHECKS_READ_THE_LIVE_RUN = True
# What Lambda's SQS poller would send for these messages (one batch, first receive).
# The payload holds a malformed record and a bad body fails the batch until stage 3: a run that fails on it
# is part of the story, so make lab-N still checks it (labs/commands.py).
FAILING_RUN_IS_CHECKED = True
PAYLOAD: dict[str, Any] = sqs_event([body for _, _, body in MESSAGES], message_ids=[mid for mid, _, _ in MESSAGES])

STAGES = [
    Stage(
        1,
        "every body validated by a model before any step runs",
        "The starter trusts each body: it builds the record without validating it, right before "
        "that record's steps, so a bad body fails the batch half-way, after records (a bad one "
        "among them) were written. Validate every body with the service's record model first, "
        "all of them, before the loop that runs the steps.",
        api=(
            "`LedgerRecord.model_validate_json(body)` (from `ingest`) parses and validates in one "
            "go and raises pydantic's `ValidationError`. Build the list of "
            "`Accepted(message_id, record, receive_count)` first, then run `service.ingest` for "
            "each. `to_record` and its `model_construct` can go."
        ),
        code="""\
# in lambda_handler, instead of the starter's loop
accepted = [
    Accepted(
        message["messageId"],
        LedgerRecord.model_validate_json(message["body"]),
        int(message["attributes"]["ApproximateReceiveCount"]),
    )
    for message in event["Records"]
]
outcomes: list[str] = []
for message in accepted:
    outcomes.append(service.ingest(context, message))
""",
    ),
    Stage(
        2,
        "the SQS envelope of the whole batch parsed with Powertools Parser (SqsModel)",
        "The handler still indexes the event as if it could only be an SQS batch: anything else "
        "fails with a bare KeyError. Parse the whole event first with the Parser utility's "
        "built-in model of an SQS batch, and read each message's id, body and receive count "
        "from its typed records. Call it in the handler: a decorator above the durable one "
        "would see the durable envelope, never the batch.",
        api=(
            "`parse(event=event, model=SqsModel)`, from `aws_lambda_powertools.utilities.parser` "
            "(`SqsModel` from its `models`); then `message.messageId`, `message.body` and "
            "`message.attributes.ApproximateReceiveCount` of each of `batch.Records`. Not "
            "`@event_parser` above `@durable_execution`."
        ),
        code="""\
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel

# in lambda_handler
batch = parse(event=event, model=SqsModel)
accepted = [
    Accepted(
        message.messageId,
        LedgerRecord.model_validate_json(message.body),
        int(message.attributes.ApproximateReceiveCount),
    )
    for message in batch.Records  # SqsRecordModel: typed and validated
]
""",
    ),
    Stage(
        3,
        "malformed messages reported as batch item failures, reason on record; good ones posted once",
        "One bad body still fails the whole batch: SQS delivers all of it again and moves the "
        "good records to the DLQ too. Validate each body on its own: a bad one gets its reason "
        "recorded and is handed back alone, as a partial batch failure, while the good ones are "
        "posted. (Parser's SQS envelope cannot do that: it raises for the whole batch on the "
        "first bad body.)",
        api=(
            "Per message, `try` / `except ValidationError`: a bad body becomes "
            "`Rejected(message_id, describe(error), receive_count)` (both from `ingest`); "
            "`service.reject(context, rejected)` logs it and records the reason; return the ids "
            "whose outcome is in `service.COMES_BACK` as "
            "`{\"batchItemFailures\": [{\"itemIdentifier\": id}]}`. Good ones: `service.ingest`."
        ),
        code="""\
from aws_lambda_powertools.utilities.parser.models import (
    SqsModel,
    SqsRecordModel,
)
from pydantic import ValidationError

from ingest import Rejected, describe  # beside Accepted, LedgerRecord, ...


def validate(message: SqsRecordModel) -> Accepted | Rejected:
    receive_count = int(message.attributes.ApproximateReceiveCount)
    try:
        record = LedgerRecord.model_validate_json(message.body)
    except ValidationError as error:
        return Rejected(message.messageId, describe(error), receive_count)
    return Accepted(message.messageId, record, receive_count)


# in lambda_handler
batch = parse(event=event, model=SqsModel)
messages = [validate(message) for message in batch.Records]
outcomes: list[str] = []
for message in messages:
    if isinstance(message, Rejected):
        service.reject(context, message)  # log line + rejections table
        outcomes.append(service.REJECTED)
    else:
        outcomes.append(service.ingest(context, message))
service.record_metrics(outcomes)  # as before, and the log line
failures = [
    {"itemIdentifier": message.message_id}
    for message, outcome in zip(messages, outcomes)
    if outcome in service.COMES_BACK
]
return {"batchItemFailures": failures}
""",
    ),
]


def signal_table(rows: list[list[str]]) -> Any:
    """One row per message of the batch: its id, its kind, and what became of it."""
    from workshop.render.tables import table_of

    headers = ["message", "body", "back to the queue", "ledger (writes)", "reason on record"]
    return table_of("this batch, message by message", headers, rows)


def show_signal(console: Any, run: Any) -> None:
    """Per message: what it was, whether it came back, what the ledger and the rejections table hold."""
    from workshop.config import StackConfig, boto3_client
    from workshop.tools.ingest_tools import resources

    config = StackConfig()
    where = resources(config)
    dynamodb = boto3_client("dynamodb", config)
    returned = None
    if run.status == "SUCCEEDED" and isinstance(run.result, dict):
        returned = {f.get("itemIdentifier") for f in run.result.get("batchItemFailures", [])}
    error = run.error if isinstance(run.error, dict) else {}
    said = f"{error.get('ErrorType', '')}: {error.get('ErrorMessage', '')}" if error else (run.error or "")
    console.print(f"execution {run.status}" + (f" ({said})" if said else "") + (f", returned {run.result}" if run.result else ""))
    if returned is None:
        console.print("[red]no batch response: SQS would deliver the whole batch again, good records included[/]")
    rows = []
    for mid, kind, body in MESSAGES:
        try:
            record_id = json.loads(body).get("record_id")
        except (ValueError, AttributeError):
            record_id = None
        item = dynamodb.get_item(TableName=where.ledger_table, Key={"record_id": {"S": record_id}}).get("Item") if record_id else None
        rejection = dynamodb.get_item(TableName=where.rejections_table, Key={"message_id": {"S": mid}}).get("Item")
        back = "whole batch" if returned is None else ("yes" if mid in returned else "no")
        rows.append([
            mid.removeprefix(f"{RUN_ID}-"),
            kind,
            back,
            f"{item['writes']['N']} (amount {item['amount']['N']})" if item else "-",
            rejection["reason"]["S"] if rejection else "-",
        ])  # fmt: skip
    console.print(signal_table(rows))
    from workshop.labs.show import show_commands  # with the stack's ports when they are not the defaults

    show_commands(console, "Read the log lines yourself:", [".venv/bin/workshop", "logs", run.function or "lab-5-parser", "--execution", run.arn])
