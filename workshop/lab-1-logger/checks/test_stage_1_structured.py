"""Stage 1: structured JSON with the service name and the Lambda context fields."""

from __future__ import annotations


from helpers import business_records


def test_business_messages_are_json_with_service_and_lambda_context(in_process_run):
    records = business_records(in_process_run)
    assert records, (
        "expected the business messages 'Order received' and 'Order finished' as JSON log lines; "
        "saw none (did the handler stop logging them?)"
    )
    for number, record in records:
        assert record.get("service") == "order-saga", (
            f"expected service \"order-saga\" on every line; saw service {record.get('service')!r} on "
            f"{record['message']!r} in invocation {number}. A Logger without a service name says "
            "'service_undefined'."
        )
        missing = [key for key in ("function_name", "function_request_id") if key not in record]
        assert not missing, (
            f"expected the Lambda context fields function_name and function_request_id; "
            f"{record['message']!r} in invocation {number} has no {', '.join(missing)}"
        )
