"""Lab 4: what the lab runner needs to know beyond its entry in workshop/labs/manifest.py (number, title, service)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from workshop.tools.ingest_tools import sqs_event, valid_record
from workshop.labs.manifest import entry_of
from workshop.labs.model import Stage

GOAL = (
    "Post every SQS record to the ledger once, however often it is delivered: Powertools Idempotency "
    "keyed on the business id, placed where a durable function's replays cannot trip it, and partial "
    "batch failures so one bad record does not send its good neighbours round again."
)
ENV_OVERRIDES: dict[str, str | None] = {}

# A batch as Lambda's SQS poller sends it: three good records and a malformed one. The record
# ids are new every time the lab is loaded, so each `make lab-4` starts from an empty ledger entry.
RUN_ID = f"lab4-{uuid.uuid4().hex[:8]}"
PAYLOAD: dict[str, Any] = sqs_event(
    [json.dumps(valid_record(RUN_ID, n)) for n in (1, 2, 3)] + ['{"record_id": "' + RUN_ID + '-bad", "amount": "oops"}']
)

STAGES = [
    Stage(
        1,
        "a record delivered twice writes the ledger once",
        "Wrap the ledger write in Powertools Idempotency: decorate post_entry with "
        "@idempotent_function(data_keyword_argument=\"entry\", persistence_store=idempotency.store, "
        "config=idempotency.config) (from ingest import idempotency). The config keys on record_id, "
        "the business id; not on the SQS message id, not on the batch.",
    ),
    Stage(
        2,
        "replay-safe: idempotency inside the step, the INPROGRESS record expiring with the invocation",
        "Keep the idempotent function inside the post step (post_entry is called there), not on the "
        "handler and not around ingest(...): the documented order (@idempotent above "
        "@durable_execution) sees only the durable envelope. Then, first thing in the handler: "
        "idempotency.config.register_lambda_context(context.lambda_context).",
    ),
    Stage(
        3,
        "one bad record: only it comes back (partial batch failure)",
        "Do not raise for a bad record: that fails the execution and SQS returns the whole batch. Call "
        "reject(context, message) (from ingest), append REJECTED to outcomes, and let the "
        "handler report it in batchItemFailures.",
    ),
]


def signal_table(table: str, record_ids: list[str], after_first: list[str], after_second: list[str]) -> Any:
    """The ledger's `writes` of each record after each delivery; a count the second delivery changed in red."""
    from workshop.render.tables import table_of

    rows = [
        [rid, one, two if two == one else f"[red]{two}[/]"]
        for rid, one, two in zip(record_ids, after_first, after_second, strict=True)
    ]
    return table_of(f"ledger `writes` per record ({table})", ["record_id", "after delivery 1", "after delivery 2"], rows)


def show_signal(console: Any, run: Any) -> None:
    """Deliver the same batch a second time and show the ledger's `writes` after each delivery."""
    from workshop.config import StackConfig, boto3_client
    from workshop import registry
    from workshop.labs.run import run_live

    config = StackConfig()
    table = registry.function(config, entry_of(Path(__file__).parent).service)["environment"]["LEDGER_TABLE"]
    dynamodb = boto3_client("dynamodb", config)
    record_ids = [f"{RUN_ID}-{n:05d}" for n in (1, 2, 3)]

    def writes() -> list[str]:
        values = []
        for rid in record_ids:
            item = dynamodb.get_item(TableName=table, Key={"record_id": {"S": rid}}, ConsistentRead=True).get("Item")
            values.append(item["writes"]["N"] if item else "-")
        return values

    def outcome(execution: Any) -> str:
        if execution.status != "SUCCEEDED":
            return f"{execution.status}: the whole batch comes back"
        failed = [f["itemIdentifier"][:8] for f in (execution.result or {}).get("batchItemFailures", [])]
        return f"SUCCEEDED, batchItemFailures {failed or 'none'}"

    after_first = writes()
    console.print("The same batch again, as a redelivery (or a duplicate message) makes: a second execution…")
    try:
        second = run_live(config, run.function or "lab-4-idempotency", PAYLOAD)  # the same function: yours, or the solution
    except AssertionError as exc:
        console.print(f"[red]the second delivery did not finish:[/] {exc}")
        return
    after_second = writes()
    console.print(signal_table(table, record_ids, after_first, after_second))
    console.print(f"delivery 1: {outcome(run)}\ndelivery 2: {outcome(second)}  ({second.arn})")
    console.print("Goal: writes stays 1, and only the malformed message is reported (batchItemFailures).")
