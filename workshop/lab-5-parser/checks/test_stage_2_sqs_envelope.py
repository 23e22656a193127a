"""Stage 2: the SQS envelope of the whole batch is parsed with Powertools Parser (SqsModel).

Lambda's poller always sends a well-formed batch, but a function can be
invoked by anything: a test event, a record sent straight to it, another
trigger. The envelope is parsed, as a whole, before any record is handled:
if the event is not an SQS batch, the execution fails at once with a
validation error that names the field, and nothing is written.
"""

from __future__ import annotations

import json

from workshop.tools.ingest_tools import sqs_event

from workshop.labs.harness.ingest import ingest_queue, outcome, record


def test_a_broken_envelope_fails_the_batch_before_any_step(lab_handler):
    event = sqs_event([record("t", 1), record("t", 2)], message_ids=["m-1", "m-2"])
    del event["Records"][1]["messageId"]  # the second record is not an SQS message

    with ingest_queue(lab_handler.lambda_handler) as ingest:
        run = ingest.run(event)
        written = sorted(ingest.ledger())

    steps = run.step_names()
    assert run.status == "FAILED" and not steps and not written, (
        "expected the SQS envelope of the whole batch to be parsed before any step: its second record "
        f"has no messageId, so the execution must fail before writing anything; saw {outcome(run)}, "
        f"and {', '.join(written) or 'nothing'} in the ledger"
    )


def test_an_event_that_is_not_an_sqs_batch_fails_with_a_validation_error(lab_handler):
    event = json.loads(record("t", 1))  # a ledger record invoked directly, not wrapped in an SQS batch

    with ingest_queue(lab_handler.lambda_handler) as ingest:
        run = ingest.run(event)

    said = run.error or ""
    assert run.status == "FAILED" and "Records" in said and ("required" in said.lower() or "valid" in said.lower()), (
        "expected the Parser to reject an event that is not an SQS batch with a validation error that "
        f"names the missing field (\"Records ... Field required\"); saw {outcome(run)}"
    )
    assert not run.step_names(), f"expected no step for an event that is not an SQS batch; saw {outcome(run)}"
