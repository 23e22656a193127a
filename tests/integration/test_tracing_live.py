"""Tracer on the live stack: the order saga's segments reach the X-Ray sink, one trace per invocation.

What is checked is what lab 2 shows: every invocation of an execution has the
function segment the host emits (the Lambda service's part) with the
execution ARN annotation, Powertools' `## lambda_handler` under it in the same
trace, and the saga's capture_method subsegments in the invocations that ran
them.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration import polling

from workshop.cli import main
from workshop.config import StackConfig, boto3_client

pytestmark = pytest.mark.live

FUNCTION_ORIGIN = "AWS::Lambda::Function"
BUSINESS_SUBSEGMENTS = {
    "## order_saga.inventory.reserve_items",
    "## order_saga.fulfilment.warehouse_timeout_seconds",
    "## order_saga.fulfilment.hand_over",
}


def poll(predicate: Callable[[], Any], what: str, deadline_s: float = 30.0) -> Any:
    """The live tests' deadline wait (tests/integration/polling.py), polled every 0.1 s."""
    return polling.wait_for(predicate, what, deadline_s, interval=0.1)


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def flatten(document: dict[str, Any], parent_id: str | None = None) -> list[dict[str, Any]]:
    """A document and its nested subsegments, each with its parent's id."""
    entity = {k: v for k, v in document.items() if k != "subsegments"}
    entity.setdefault("trace_id", document.get("trace_id"))
    if parent_id:
        entity.setdefault("parent_id", parent_id)
    out = [entity]
    for child in document.get("subsegments") or ():
        child = {**child, "trace_id": entity["trace_id"]}
        out.extend(flatten(child, entity["id"]))
    return out


@pytest.fixture(scope="module")
def saga_execution(live_stack: StackConfig) -> dict[str, Any]:
    """One saga with a transient payment error: several invocations, steps in different ones."""
    order = {
        "order_id": f"o-{uuid.uuid4().hex[:12]}",
        "customer_id": "c-trace",
        "items": [{"sku": "SKU-BOOK", "quantity": 1}],
        "amount": "19.99",
        "currency": "EUR",
        "simulate": {"transient_payment_errors": 1},
    }
    response = boto3_client("lambda", live_stack).invoke(FunctionName="order-saga:live", Payload=json.dumps(order).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["status"] == "COMPLETED"
    arn = response["DurableExecutionArn"]
    query = urllib.parse.urlencode({"execution": arn})
    invocations = get_json(f"{live_stack.host_url}/_workshop/invocations?{query}")["Invocations"]
    assert len(invocations) >= 3, invocations  # first run, retry after the payment error, warehouse callback...
    sink = live_stack.xray_url
    request_ids = {e["request_id"] for e in invocations}

    def all_function_segments_arrived() -> list[dict[str, Any]] | None:
        documents = get_json(f"{sink}/segments?{urllib.parse.urlencode({'execution_arn': arn})}")["Segments"]
        traced = {(d.get("aws") or {}).get("request_id") for d in documents if d.get("origin") == FUNCTION_ORIGIN}
        return documents if request_ids <= traced else None

    documents = poll(all_function_segments_arrived, f"a function segment for each of the {len(invocations)} invocations")
    entities = [entity for document in documents for entity in flatten(document)]
    return {"arn": arn, "invocations": invocations, "entities": entities}


def test_one_function_segment_per_invocation_with_the_execution_annotation(saga_execution: dict[str, Any]):
    arn, invocations = saga_execution["arn"], saga_execution["invocations"]
    segments = [e for e in saga_execution["entities"] if e.get("origin") == FUNCTION_ORIGIN]
    assert sorted(s["aws"]["request_id"] for s in segments) == sorted(e["request_id"] for e in invocations)
    assert len({s["trace_id"] for s in segments}) == len(segments)  # each invocation is its own trace
    for segment in segments:
        assert segment["name"] == "order-saga"
        assert segment["annotations"]["execution_arn"] == arn
        assert segment["end_time"] >= segment["start_time"]
    statuses = [s["annotations"]["durable_status"] for s in sorted(segments, key=lambda s: s["start_time"])]
    assert statuses[-1] == "SUCCEEDED" and set(statuses[:-1]) == {"PENDING"}


def test_each_invocation_has_its_lambda_handler_subsegment_in_the_same_trace(saga_execution: dict[str, Any]):
    arn, entities = saga_execution["arn"], saga_execution["entities"]
    for segment in (e for e in entities if e.get("origin") == FUNCTION_ORIGIN):
        handlers = [e for e in entities if e["name"] == "## lambda_handler" and e.get("parent_id") == segment["id"]]
        assert len(handlers) == 1, f"invocation {segment['aws']['request_id']}: {handlers}"
        [handler] = handlers
        assert handler["trace_id"] == segment["trace_id"]
        assert handler["annotations"]["execution_arn"] == arn  # put by annotate_execution, outside the durable thread
        assert "ColdStart" in handler["annotations"]


def test_capture_method_subsegments_of_the_business_functions_are_in_the_invocations_traces(saga_execution: dict[str, Any]):
    entities = saga_execution["entities"]
    by_id = {e["id"]: e for e in entities}
    function_traces = {e["trace_id"] for e in entities if e.get("origin") == FUNCTION_ORIGIN}
    business = [e for e in entities if e["name"] in BUSINESS_SUBSEGMENTS]
    assert {e["name"] for e in business} == BUSINESS_SUBSEGMENTS
    for entity in business:
        assert entity["trace_id"] in function_traces
        root = entity
        while root.get("parent_id") in by_id:
            root = by_id[root["parent_id"]]
        assert root.get("origin") == FUNCTION_ORIGIN, f"{entity['name']} does not lead to a function segment"
    # a completed step is replayed, not re-run: each business function ran in exactly one invocation
    assert len(business) == len(BUSINESS_SUBSEGMENTS)


def test_workshop_traces_draws_the_execution(saga_execution: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "220")
    assert main(["traces", "--execution", saga_execution["arn"]]) == 0
    text = capsys.readouterr().out
    count = len(saga_execution["invocations"])
    assert f"{count} invocations shown, {count} recorded by the function host" in text
    assert text.count("## lambda_handler") == count
    assert all(name in text for name in BUSINESS_SUBSEGMENTS)
    assert "SUCCEEDED" in text and "execution_arn ✓" in text
