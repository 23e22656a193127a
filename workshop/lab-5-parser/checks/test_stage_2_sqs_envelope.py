"""Stage 2: the SQS envelope of the whole batch is parsed with Powertools Parser (SqsModel).

Lambda's poller always sends a well-formed batch, but a function can be
invoked by anything: a test event, a record sent straight to it, another
trigger. The envelope is parsed, as a whole, before any record is handled:
if the event is not an SQS batch, the execution fails at once with a
validation error that names the field, and nothing is written.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import SqsModel

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


def test_the_pages_event_parser_above_durable_execution_parses_the_wrong_event(lab_handler):
    """@event_parser(model=SqsModel) ABOVE @durable_execution (a plain function's placement), around your handler.

    Lambda invokes a durable function with the durable envelope
    (DurableExecutionArn, CheckpointToken, InitialExecutionState), and that is
    what a decorator above @durable_execution receives: it parses the envelope,
    not the SQS batch, and every invocation fails with ``Records  Field
    required`` before your handler runs, whatever it does. The batch must be
    parsed inside the handler, below @durable_execution.
    """
    documented_order = event_parser(model=SqsModel)(lab_handler.lambda_handler)
    with ingest_queue(documented_order) as ingest:
        above = ingest.deliver([record("t", 1)], ["m-1"])
    # What the placement does (true on every target): the durable envelope has no Records.
    assert above.status == "FAILED" and "Records" in (above.error or "") and not above.step_names(), (
        "expected @event_parser above @durable_execution to fail on the durable invocation envelope "
        f"(\"Records  Field required\") before any step; saw {outcome(above)}"
    )
    with ingest_queue(lab_handler.lambda_handler) as ingest:
        inside = ingest.run(json.loads(record("t", 2)))  # not a batch: only a parse inside the handler names the field
    said = inside.error or ""
    assert inside.status == "FAILED" and "Records" in said and "Field required" in said, (
        "expected your handler to parse the SQS batch itself, below @durable_execution, with Parser "
        "(parse(event=event, model=SqsModel)): an event without Records must fail with \"Records  Field "
        f"required\" from inside the execution; saw {outcome(inside)}. Above @durable_execution, as in "
        "a plain function, @event_parser parses the durable envelope instead and every invocation fails."
    )
