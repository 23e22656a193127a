"""The host's table of the durable routes it passes to the runner (workshop.host.durable_ops).

Regression tests for what the fuzzing of the function host found: an unknown
path, a DELETE or an AWS API the runner lacks went to the runner, which
answered a 500 or an HTML page; now the host answers them itself.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest

from workshop.host import durable_ops
from workshop.host.errors import AwsError

ARN = urllib.parse.quote("arn:aws:lambda:us-east-1:000000000000:function:order-saga:1/durable-execution/a/b", safe="")


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", f"/2025-12-01/durable-executions/{ARN}", "GetDurableExecution"),
        ("GET", f"/2025-12-01/durable-executions/{ARN}/history", "GetDurableExecutionHistory"),
        ("POST", f"/2025-12-01/durable-executions/{ARN}/checkpoint", "CheckpointDurableExecution"),
        ("POST", f"/2025-12-01/durable-executions/{ARN}/stop", "StopDurableExecution"),
        ("GET", "/2025-12-01/functions/ingest/durable-executions", "ListDurableExecutionsByFunction"),
        ("POST", "/2025-12-01/durable-execution-callbacks/abc%3D%3D/succeed", "SendDurableExecutionCallbackSuccess"),
        ("GET", "/2025-12-01/durable-executions", "ListDurableExecutions"),
    ],
)
def test_the_runners_operations_are_passed_on(method: str, path: str, operation: str) -> None:
    assert durable_ops.check_served(method, path) == operation


@pytest.mark.parametrize(
    ("method", "path", "status", "error_type"),
    [
        ("GET", "/2025-12-01/functions//durable-executions", 404, "UnknownOperationException"),
        ("GET", "/2025-12-01/foo", 404, "UnknownOperationException"),
        ("PUT", f"/2025-12-01/durable-executions/{ARN}", 404, "UnknownOperationException"),
        ("GET", f"/2025-12-01/durable-executions/{ARN}/stop", 404, "UnknownOperationException"),
        ("GET", "/2025-12-01/durable-executions/a/b/history", 404, "UnknownOperationException"),  # an unencoded slash: not one ARN
        ("DELETE", f"/2025-12-01/durable-executions/{ARN}", 400, "InvalidRequestContentException"),
        ("POST", f"/2025-12-01/durable-executions/{ARN}/pause", 400, "InvalidRequestContentException"),
    ],
)
def test_what_the_runner_does_not_serve_is_refused_by_the_host(method: str, path: str, status: int, error_type: str) -> None:
    with pytest.raises(AwsError) as refused:
        durable_ops.check_served(method, path)
    assert (refused.value.status, refused.value.error_type) == (status, error_type)


def test_an_html_error_page_from_the_runner_becomes_aws_shaped() -> None:
    error_type, body = durable_ops.aws_error_body(501, b"<!DOCTYPE HTML><html>Unsupported method</html>")
    parsed = json.loads(body)
    assert error_type == "ServiceException" and parsed["Type"] == "ServiceException"
    assert "Unsupported method" in parsed["message"] and parsed["Message"] == parsed["message"]


def test_an_aws_shaped_runner_error_is_left_alone() -> None:
    assert durable_ops.aws_error_body(404, b'{"Type": "ResourceNotFoundException", "Message": "no such execution"}') is None
