"""Stage 1: every message body is validated by a model before any step runs.

One batch per kind of malformed body: a good record, the malformed one, another
good record. Whatever the handler then does with the bad message (fail the
batch, or hand the message back), no step may run for it, nothing may be
written for it, and if the execution fails, it must fail before any step ran:
a batch that fails half-way has already written its first records.
"""

from __future__ import annotations


import pytest

from workshop.tools.ingest_tools import MALFORMED_TEMPLATES

from workshop.labs.harness.ingest import ingest_queue, outcome, record

BAD_RECORD_ID = "t-bad-2"  # what the templates' readable record ids become
# The first failures shown are the two lessons: a batch that fails half-way, a bad record posted.
_FIRST = ("missing amount", "zero amount")
KINDS = sorted(MALFORMED_TEMPLATES, key=lambda kt: _FIRST.index(kt[0]) if kt[0] in _FIRST else len(_FIRST))


@pytest.mark.parametrize("kind, template", KINDS, ids=[kind.replace(" ", "-") for kind, _ in KINDS])
def test_a_malformed_body_gets_no_step_and_no_write(lab_handler, kind, template):
    with ingest_queue(lab_handler.lambda_handler) as ingest:
        run = ingest.deliver([record("t", 1), template.format(run="t", n=2), record("t", 3)], ["m-1", "m-bad", "m-3"])
        ledger = ingest.ledger()

    bad_steps = [name for name in run.step_names("enrich:", "post:") if name.endswith(f":{BAD_RECORD_ID}")]
    posted = ledger.get(BAD_RECORD_ID)
    assert not bad_steps and not posted, (
        f"expected the malformed body ({kind}) to be rejected by validation before any step; "
        f"saw the steps {', '.join(bad_steps)} run for it"
        + (f" and {BAD_RECORD_ID} posted to the ledger with amount {posted['amount']}" if posted else "")
        + f" — {outcome(run)}"
    )
    if run.status != "SUCCEEDED":
        written = sorted(ledger)
        assert not run.step_names("enrich:", "post:") and not written, (
            f"expected the batch to be validated before any step runs; saw {outcome(run)}, "
            f"with {', '.join(written) or 'nothing'} already in the ledger: the batch is half-written, "
            "and SQS will deliver all of it again"
        )
