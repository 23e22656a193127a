"""The AWS CLI (v1, from PyPI, requirements/awscli.txt) drives the function host as it drives Lambda.

The README's commands, run by the real `aws` against a private live stack with
dummy credentials and no AWS configuration: start an order that waits for a
person, list it, read its history for the callback id, answer the callback,
and see the execution succeed. The CLI parses every reply with its own
(vendored) botocore, so a shape it cannot read fails here.

The CLI's environment is .venv-awscli (`make test` builds it); when it is
missing or older than its requirements, this module builds it with
scripts/make-venv, so `pytest` alone works on a fresh machine too.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.polling import wait_for
from workshop.config import ACCOUNT_ID, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, REGION, StackConfig
from workshop.runner.aws_shapes import split_execution_arn

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-awscli"
REQUIREMENTS = ROOT / "requirements" / "awscli.txt"
STAMP = VENV / ".installed"
EXPECTED_VERSION = "aws-cli/1.46.2"  # requirements/awscli.txt


@pytest.fixture(scope="module")
def aws_cli() -> Path:
    """.venv-awscli/bin/aws, built from requirements/awscli.txt if needed (as the Makefile's stamp rule does)."""
    if not STAMP.exists() or STAMP.stat().st_mtime < REQUIREMENTS.stat().st_mtime:
        built = subprocess.run(
            [str(ROOT / "scripts" / "make-venv"), str(VENV), str(REQUIREMENTS)],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHON": os.environ.get("PYTHON", "python3")},
        )  # fmt: skip
        if built.returncode != 0:
            pytest.fail(f"could not build {VENV} from {REQUIREMENTS} (scripts/make-venv exited {built.returncode}):\n{built.stderr[-2000:]}")
        STAMP.touch()
    return VENV / "bin" / "aws"


def run_aws(aws: Path, config: StackConfig, home: Path, *args: str) -> dict[str, Any]:
    """One `aws lambda ...` against the host: dummy credentials, no profile or config file, JSON out."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }
    command = [str(aws), "lambda", *args, "--endpoint-url", config.host_url, "--output", "json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=home)
    assert done.returncode == 0, f"{' '.join(args[:1])} exited {done.returncode}:\n{done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_the_readmes_commands_work_with_the_aws_cli(aws_cli: Path, live_stack: StackConfig, tmp_path: Path) -> None:
    version = subprocess.run([str(aws_cli), "--version"], capture_output=True, text=True, timeout=60)
    assert (version.stdout + version.stderr).startswith(EXPECTED_VERSION), version

    order = {"order_id": f"o-cli-{uuid.uuid4().hex[:8]}", "customer_id": "c-cli", "items": [{"sku": "SKU-BOOK", "quantity": 1}],
             "amount": "12.50", "currency": "EUR", "simulate": {"warehouse": "manual"}}  # fmt: skip
    started = run_aws(aws_cli, live_stack, tmp_path, "invoke", "--function-name", "order-saga:live", "--invocation-type", "Event",
                      "--payload", json.dumps(order), str(tmp_path / "out.json"))  # fmt: skip
    assert (started["StatusCode"], started["ExecutedVersion"]) == (202, "1"), started
    arn = started["DurableExecutionArn"]
    parts = split_execution_arn(arn)
    assert parts and (parts["account"], parts["function"], parts["version"]) == (ACCOUNT_ID, "order-saga", "1"), arn

    listed = run_aws(aws_cli, live_stack, tmp_path, "list-durable-executions-by-function", "--function-name", "order-saga", "--qualifier", "live")
    assert arn in [row["DurableExecutionArn"] for row in listed["DurableExecutions"]]

    def callback_id() -> str | None:
        events = run_aws(aws_cli, live_stack, tmp_path, "get-durable-execution-history", "--durable-execution-arn", arn)["Events"]
        return next((e["CallbackStartedDetails"]["CallbackId"] for e in events if e["EventType"] == "CallbackStarted"), None)

    callback = wait_for(callback_id, "the saga to wait on the warehouse callback")
    run_aws(aws_cli, live_stack, tmp_path, "send-durable-execution-callback-success", "--callback-id", callback, "--result", json.dumps({"shipment_id": "ship-cli"}))

    def ended() -> dict[str, Any] | None:
        detail = run_aws(aws_cli, live_stack, tmp_path, "get-durable-execution", "--durable-execution-arn", arn)
        return detail if detail["Status"] != "RUNNING" else None

    detail = wait_for(ended, "the execution to end after the callback")
    assert detail["Status"] == "SUCCEEDED", detail
    assert json.loads(detail["Result"])["status"] == "COMPLETED"
    history = run_aws(aws_cli, live_stack, tmp_path, "get-durable-execution-history", "--durable-execution-arn", arn)["Events"]
    step = next(e for e in history if e["EventType"] == "StepSucceeded")
    assert step["StepSucceededDetails"]["RetryDetails"]["CurrentAttempt"] == 1
