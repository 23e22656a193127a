"""The small pieces of `workshop deploy` that need no stack: names, overrides, the runner's live function configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workshop.cli.stacks import parse_overrides
from workshop.deploy import default_stack_name
from workshop.runner import function_configs


def test_overrides_in_both_of_sams_spellings() -> None:
    assert parse_overrides(["A=1", "ParameterKey=B,ParameterValue=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(Exception, match="not Key=Value"):
        parse_overrides(["novalue"])


def test_default_stack_name_is_the_folder_made_valid(tmp_path: Path) -> None:
    assert default_stack_name(tmp_path / "my_app v2" / "template.yaml") == "my-app-v2"
    assert default_stack_name(tmp_path / "2024" / "template.yaml") == "stack-2024"


def test_the_runner_reads_function_configs_again_when_the_file_changes(tmp_path: Path) -> None:
    """`context.invoke` of a function deployed after the runner started must find it."""
    path = function_configs.write(tmp_path, {"functions": {"first": {"durable": None}}})
    configs = function_configs.watched(path)
    assert configs.lookup("first", None) is not None and configs.lookup("later", None) is None

    function_configs.write(tmp_path, {"functions": {"first": {}, "later": {"durable": {"ExecutionTimeout": 60}}}})
    later = os.stat(path).st_mtime_ns + 1_000_000
    os.utime(path, ns=(later, later))  # a coarse clock must not hide the change
    found = configs.lookup("later", None)
    assert found is not None and found.is_durable and found.execution_timeout_seconds == 60

    path.write_text("{not json")
    os.utime(path, ns=(later + 1_000_000, later + 1_000_000))
    assert configs.lookup("later", None) is not None, "a broken file keeps the last good entries"
