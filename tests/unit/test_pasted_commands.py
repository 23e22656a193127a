"""Every command the workshop prints for pasting reaches the program with exactly the arguments meant.

A shell expands `$LATEST` (to nothing), splits at spaces and reads quotes; a
command printed without quoting what a shell would change fails when pasted
(`--function-name my-requests:` → InvalidParameterValue). Each printed command
is split here twice: by `shlex.split` and by a real `sh`, and both must give
back the intended arguments.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from workshop.cli.executions import succeed_command
from workshop.cli.stacks import invoke_command
from workshop.config import REPO_ROOT, StackConfig
from workshop.labs.show import stack_command
from workshop.paste import pasteable

ARN = "arn:aws:lambda:us-east-1:000000000000:function:my-requests:$LATEST/durable-execution/r-1/8f3c2a8e"


def shell_words(command: str) -> list[str]:
    """The words a POSIX shell makes of `command` (after its expansions), without running it."""
    script = f'set -- {command}\nprintf "%s\\n" "$@"'
    done = subprocess.run(["sh", "-c", script], env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def assert_pastes_as(command: str, intended: list[str]) -> None:
    assert shlex.split(command) == intended, command
    assert shell_words(command) == intended, command


def test_the_deploy_invoke_command_keeps_its_latest_qualifier() -> None:
    command = invoke_command("http://127.0.0.1:3001", "my-requests")
    assert_pastes_as(command, ["aws", "lambda", "invoke", "--endpoint-url", "http://127.0.0.1:3001", "--function-name", "my-requests:$LATEST", "out.json"])


def test_a_stack_command_quotes_the_settings_values_not_the_settings() -> None:
    """`KEY='a b' cmd` sets KEY for cmd; `'KEY=a b' cmd` would run a command named `KEY=a b`."""
    moved = StackConfig(state_dir=Path("/Users/ada/work shop/$state"), emulator_port=4567, runner_port=9014, host_port=3001, xray_port=2000)
    command = stack_command([".venv/bin/workshop", "timeline", ARN], moved)
    assert command.startswith("WORKSHOP_STATE_DIR='/Users/ada/work shop/$state' WORKSHOP_EMULATOR_PORT=4567 ")
    assert_pastes_as(command, ["WORKSHOP_STATE_DIR=/Users/ada/work shop/$state", "WORKSHOP_EMULATOR_PORT=4567", ".venv/bin/workshop", "timeline", ARN])


def test_a_callback_answer_keeps_its_id_and_its_placeholder() -> None:
    assert_pastes_as(succeed_command("Y2I6$1/x=="), ["workshop", "callback", "succeed", "Y2I6$1/x==", "--result", "{...}"])


def test_plain_words_stay_unquoted() -> None:
    """Quoted only where needed, so a printed command reads as one typed by hand."""
    assert pasteable(["workshop", "logs", "lab-1-logger"]) == "workshop logs lab-1-logger"


def test_a_command_line_is_refused_for_its_arguments() -> None:
    with pytest.raises(TypeError, match="arguments"):
        pasteable(f"workshop timeline {ARN}")  # type: ignore[arg-type]


def test_the_shell_check_sees_an_unquoted_latest() -> None:
    """What the deploy line was: the shell drops `$LATEST`, so this check fails on it."""
    unquoted = "aws lambda invoke --function-name my-requests:$LATEST out.json"
    assert shell_words(unquoted)[4] == "my-requests:"


# a command the workshop prints, continued by an interpolated value: it must be built with pasteable
_COMMAND = re.compile(r"(?:^|[\s`(:#])(?:\.venv/bin/)?(?:workshop|aws)\s[^`\n\]]*$")


def unquoted_interpolations(source: str) -> list[int]:
    """Lines of f-strings that write `workshop ...` or `aws ...` and put a value into the command unquoted."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            for text, value in zip(node.values, node.values[1:]):
                if isinstance(text, ast.Constant) and isinstance(value, ast.FormattedValue) and _COMMAND.search(str(text.value)):
                    lines.append(node.lineno)
    return lines


def test_no_printed_command_interpolates_a_value_unquoted() -> None:
    found = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in sorted((REPO_ROOT / "workshop").rglob("*.py"))
        if (lines := unquoted_interpolations(path.read_text(encoding="utf-8")))
    }
    assert not found, f"build these commands with workshop.paste.pasteable: {found}"


def test_the_static_check_sees_an_interpolated_command() -> None:
    assert unquoted_interpolations('arn = "x"\nprint(f"see `workshop timeline {arn}`")\n') == [2]
    assert unquoted_interpolations('n = 1\nprint(f"run `make lab-{n}`")\n') == []


def test_a_lab_prints_each_command_whole_on_one_line_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich would break a long ARN with a newline at 80 columns; the copied command would be two lines."""
    import io

    from rich.console import Console

    from workshop.labs.show import show_commands

    from workshop.config import StackConfig, stack_env

    for key in stack_env(StackConfig()):  # a live stack's settings, exported by another test of this process
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WORKSHOP_EMULATOR_PORT", "4567")
    console = Console(width=80, file=io.StringIO(), color_system=None)
    show_commands(console, "Look yourself:", [".venv/bin/workshop", "timeline", ARN], [".venv/bin/workshop", "traces", "--execution", ARN])
    label, *commands = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert label == "Look yourself:"
    assert [shlex.split(line)[1:] for line in commands] == [[".venv/bin/workshop", "timeline", ARN], [".venv/bin/workshop", "traces", "--execution", ARN]]
    assert all(line.startswith("  WORKSHOP_EMULATOR_PORT=4567 ") for line in commands)
