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
    "Post every SQS record to the ledger once, however often it is delivered. The Powertools page's "
    "@idempotent above @durable_execution deduplicates nothing: key on the business id, inside the "
    "step; then let the Batch utility hand back only the records that failed."
)
ENV_OVERRIDES: dict[str, str | None] = {}

# A batch as Lambda's SQS poller sends it: three good records and a malformed one. The record
# ids are new every time the lab is loaded, so each `make lab-4` starts from an empty ledger entry.
RUN_ID = f"lab4-{uuid.uuid4().hex[:8]}"
# The payload holds a malformed record and the starter fails the batch on its malformed record: a run that fails on it
# is part of the story, so make lab-N still checks it (labs/commands.py).
FAILING_RUN_IS_CHECKED = True
PAYLOAD: dict[str, Any] = sqs_event(
    [json.dumps(valid_record(RUN_ID, n)) for n in (1, 2, 3)] + ['{"record_id": "' + RUN_ID + '-bad", "amount": "oops"}']
)
# What Lambda sends a durable function, and so what a decorator above @durable_execution hashes.
ENVELOPE_FIELDS = "DurableExecutionArn, CheckpointToken, InitialExecutionState"

STAGES = [
    Stage(
        1,
        "a record delivered twice writes the ledger once: the key is the business id",
        "Above @durable_execution, @idempotent hashes what Lambda sends a durable function: the durable "
        f"envelope ({ENVELOPE_FIELDS}), new on every delivery, so no delivery is a duplicate of "
        "another. Make the ledger write itself idempotent, keyed on the record's business id: the same "
        "in every delivery, message and batch (not the SQS message id, not the batch).",
        api="`@idempotent_function(data_keyword_argument=\"entry\", persistence_store=idempotency.store, "
        "config=idempotency.config)` on `post_entry`; the service's config has `event_key_jmespath=\"record_id\"`.",
        code=(
            "from aws_lambda_powertools.utilities.idempotency import idempotent_function\n\n"
            "@idempotent_function(\n"
            "    data_keyword_argument=\"entry\",\n"
            "    persistence_store=idempotency.store,\n"
            "    config=idempotency.config,\n"
            ")\n"
            "def post_entry(entry: dict[str, Any]) -> dict[str, Any]:\n"
            "    return ledger.post(entry)"
        ),
    ),
    Stage(
        2,
        "idempotency inside the step: replay-safe, nothing keyed on the durable envelope",
        "Idempotency belongs around the one write inside the post step: post_entry is called there. Take "
        "the page's decorator off the handler (it stores a record per invocation that nothing ever "
        "matches), keep nothing around ingest(...) (a suspension leaves its INPROGRESS record behind), "
        "and tell Powertools each invocation's deadline, so an INPROGRESS record left by a crash expires "
        "with that invocation, not in 7 days.",
        api="Remove `@idempotent(...)` above `@durable_execution`; first thing in the handler, every "
        "invocation: `idempotency.config.register_lambda_context(context.lambda_context)`.",
        code=(
            "@metrics.log_metrics\n"
            "@logger.inject_lambda_context\n"
            "@durable_execution\n"
            "def lambda_handler(event, context: DurableContext):\n"
            "    context.set_logger(logger)\n"
            "    idempotency.config.register_lambda_context(context.lambda_context)\n"
            "    ..."
        ),
    ),
    Stage(
        3,
        "one record fails, for any reason: only it comes back (the Batch utility)",
        "Raising fails the execution, and SQS returns the whole batch: the good records come back too. "
        "Handle each record on its own, so that whatever one record raises (a bad body, a step that "
        "failed for good) becomes that record's failure, and return only those to SQS.",
        api="Powertools' Batch utility: `BatchProcessor(event_type=EventType.SQS, "
        "raise_on_entire_batch_failure=False)` and `process_partial_response(event=event, "
        "record_handler=..., processor=...)`, below `@durable_execution`; `reject(context, message)` records "
        "why a bad body comes back.",
        code=(
            "def record_handler(record: SQSRecord) -> str:\n"
            "    message = messages[record.message_id]  # {m.message_id: m, ...}\n"
            "    if isinstance(message, Rejected):\n"
            "        reject(context, message)\n"
            "        outcome = REJECTED\n"
            "    else:\n"
            "        outcome = ingest(context, message, post_function=post_entry)\n"
            "    outcomes.append(outcome)\n"
            "    if outcome in COMES_BACK:\n"
            "        raise NotPosted(record.message_id)\n"
            "    return outcome\n\n"
            "processor = BatchProcessor(\n"
            "    event_type=EventType.SQS, raise_on_entire_batch_failure=False)\n"
            "response = process_partial_response(\n"
            "    event=event, record_handler=record_handler, processor=processor)\n"
            "record_metrics(outcomes)\n"
            "return response"
        ),
    ),
]


def signal_table(record_ids: list[str], after_first: list[str], after_second: list[str]) -> Any:
    """The ledger's `writes` of each record after each delivery; a count the second delivery changed in red."""
    from rich import box

    from workshop.render.tables import table_of

    rows = [
        [rid, one, two if two == one else f"[red]{two}[/]"]
        for rid, one, two in zip(record_ids, after_first, after_second, strict=True)
    ]
    return table_of(
        "ledger `writes`, the same batch delivered twice",
        ["record_id", "after delivery 1", "after delivery 2"],
        rows,
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )


def _idempotency_table(config: Any) -> str:
    from workshop import registry

    return registry.function(config, entry_of(Path(__file__).parent).service)["environment"]["IDEMPOTENCY_TABLE"]


def handler_level_keys(config: Any) -> set[str]:
    """Idempotency keys stored for a whole handler's event (`<function>.<module>.lambda_handler#<hash>`)."""
    from workshop.config import boto3_client

    dynamodb = boto3_client("dynamodb", config)
    keys: set[str] = set()
    for page in dynamodb.get_paginator("scan").paginate(TableName=_idempotency_table(config), ProjectionExpression="id"):
        keys.update(item["id"]["S"] for item in page["Items"] if ".lambda_handler#" in item["id"]["S"])
    return keys


_KEYS_BEFORE: set[str] | None = None  # the handler-level keys before this make lab-4's first delivery


def prepare_live(config: Any) -> None:
    """Before the first delivery: note the handler-level keys already stored, so show_signal can name the new ones."""
    global _KEYS_BEFORE
    if _KEYS_BEFORE is None:
        _KEYS_BEFORE = handler_level_keys(config)


def envelope_note(new_keys: list[str]) -> str:
    """Why the keys Powertools stored for the handler never match: it hashed the durable envelope."""
    hashes = " ".join("#" + key.rsplit("#", 1)[-1][:8] for key in sorted(new_keys)[:3])
    more = "…" if len(new_keys) > 3 else ""
    return (
        f"[yellow]@idempotent above @durable_execution[/] hashed the durable envelope (DurableExecutionArn, "
        f"CheckpointToken, …): {len(new_keys)} new keys, {hashes}{more}"
    )


class Signal:
    """What show_signal shows, measured once: the ledger's writes around a second delivery of the same batch.

    A plain class: lab.py is loaded outside sys.modules, where a dataclass cannot read its annotations.
    """

    def __init__(self, record_ids: list[str], after_first: list[str]) -> None:
        self.record_ids, self.after_first = record_ids, after_first
        self.after_second: list[str] = []
        self.second: Any = None  # the second delivery's ExecutionRun; None when it did not finish
        self.failed = ""  # why it did not
        self.new_keys: list[str] = []  # handler-level idempotency keys stored since the first delivery


def measure_signal(run: Any) -> Signal:
    """Deliver the same batch a second time and read the ledger before and after.

    Apart from show_signal, and once: make lab-4 measures it while its checks
    still run (off the critical path), and show_signal is drawn twice (once
    to count its lines), which delivered the batch twice more when it measured.
    """
    from workshop import registry
    from workshop.config import StackConfig, boto3_client
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

    signal = Signal(record_ids, writes())
    try:
        signal.second = run_live(config, run.function or "lab-4-idempotency", PAYLOAD)  # the same function: yours, or the solution
    except AssertionError as exc:
        signal.failed = str(exc)
        return signal
    signal.after_second = writes()
    if _KEYS_BEFORE is not None:
        signal.new_keys = sorted(handler_level_keys(config) - _KEYS_BEFORE)
    return signal


def show_signal(console: Any, run: Any, measured: Signal | None = None) -> None:
    """The same batch delivered a second time: the ledger's `writes`, and what a handler-level key hashed."""
    from rich.markup import escape

    signal = measured or measure_signal(run)

    def outcome(execution: Any) -> str:
        if execution.status != "SUCCEEDED":
            return f"{execution.status}: the whole batch comes back"
        failed = [f["itemIdentifier"][:8] for f in (execution.result or {}).get("batchItemFailures", [])]
        return f"SUCCEEDED, batchItemFailures {failed or 'none'}"

    if signal.second is None:
        console.print(f"[red]the second delivery (the same batch again) did not finish:[/] {escape(signal.failed)}")
        return
    console.print(signal_table(signal.record_ids, signal.after_first, signal.after_second))
    first, again = outcome(run), outcome(signal.second)
    console.print(escape(f"deliveries 1 and 2: {first}" if first == again else f"delivery 1: {first}\ndelivery 2: {again}"))
    if signal.new_keys:
        console.print(envelope_note(signal.new_keys))
    console.print("Goal: writes stays 1; only the malformed message comes back.")
