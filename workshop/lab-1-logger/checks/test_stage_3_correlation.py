"""Stage 3: every line carries the execution ARN, identical in every invocation."""

from __future__ import annotations


from helpers import handler_records


def test_every_line_carries_the_execution_arn(in_process_run):
    records = handler_records(in_process_run)
    assert records, "expected the handler's and its steps' log lines; saw none"
    for number, record in records:
        assert record.get("execution_arn") == in_process_run.arn, (
            f"expected execution_arn = {in_process_run.arn!r} on every line; "
            f"{record['message']!r} in invocation {number} has execution_arn = {record.get('execution_arn')!r}"
            + (f" (it has executionArn, the SDK's camelCase key; the documented query filters on execution_arn)" if "executionArn" in record else "")
        )
