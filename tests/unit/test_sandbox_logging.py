"""LoggingConfig in the function host: what provisioning keeps, and what a worker does with it.

Lambda passes LoggingConfig to the runtime as AWS_LAMBDA_LOG_FORMAT and
AWS_LAMBDA_LOG_LEVEL; the Python runtime sets the root logger's level from the
latter. A worker is a plain subprocess here (workshop.host.sandbox over pipes):
no stack is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from workshop.config import REPO_ROOT
from workshop.provision.functions import _log_settings

HANDLER = """\
import logging
def handler(event, context):
    logging.getLogger("mine").info("at info", extra={"word": event["word"]})
    logging.getLogger("mine").debug("at debug")
    return "ok"
"""


def test_the_application_log_level_is_kept_with_json_and_the_rest_is_said() -> None:
    said: list[str] = []
    assert _log_settings("f", {"LogFormat": "JSON", "ApplicationLogLevel": "info"}, said.append) == {
        "log_format": "JSON", "application_log_level": "INFO",
    }  # fmt: skip
    assert _log_settings("f", {"LogFormat": "Text", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"}, said.append) == {
        "log_format": "Text",
    }  # fmt: skip
    assert said == [
        "f: LoggingConfig ApplicationLogLevel needs LogFormat JSON (as on AWS); ignored",
        "f: LoggingConfig SystemLogLevel not implemented locally; ignored",
    ]
    assert _log_settings("f", {}, said.append) == {}


def worker_lines(tmp_path: Path, extra_env: dict[str, str]) -> list[str]:
    """The log lines of one invocation of HANDLER in a worker, which ends at the end of its stdin."""
    (tmp_path / "h.py").write_text(HANDLER)
    env = {**os.environ, "_HANDLER": "h.handler", "LAMBDA_TASK_ROOT": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])}
    env.pop("AWS_LAMBDA_LOG_LEVEL", None)
    context = {
        "aws_request_id": "req-1", "invoked_function_arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "function_name": "f", "function_version": "$LATEST", "memory_limit_in_mb": 128, "log_group_name": "/aws/lambda/f",
        "log_stream_name": "s", "deadline_ms": 0,
    }  # fmt: skip
    request = {"event": {"word": "hello"}, "context": context}
    done = subprocess.run(
        [sys.executable, "-m", "workshop.host.sandbox"], input=json.dumps(request) + "\n", capture_output=True,
        text=True, cwd=tmp_path, env={**env, **extra_env}, check=True,
    )  # fmt: skip
    messages: list[dict[str, Any]] = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"result": "ok"} in messages, done.stdout + done.stderr
    return [m["log"] for m in messages if "log" in m]


def test_aws_lambda_log_level_lets_info_through_as_a_json_line(tmp_path: Path) -> None:
    [line] = worker_lines(tmp_path, {"AWS_LAMBDA_LOG_LEVEL": "INFO", "AWS_LAMBDA_LOG_FORMAT": "JSON"})
    record = json.loads(line)
    assert {k: record[k] for k in ("level", "message", "logger", "requestId", "word")} == {
        "level": "INFO", "message": "at info", "logger": "mine", "requestId": "req-1", "word": "hello",
    }  # fmt: skip


def test_without_a_log_level_the_root_logger_stays_at_warning_as_on_lambda(tmp_path: Path) -> None:
    assert worker_lines(tmp_path, {}) == []
