"""The README's AWS CLI commands paste as written, and say which AWS CLI they need.

`--cli-binary-format raw-in-base64-out` is AWS CLI v2's: v1 (`pip install
awscli`) stops at it with "Unknown options", and takes a blob as raw text
already. So each README command that carries it sits after prose naming
AWS CLI v2, and the same command without it is given too, after prose naming
AWS CLI v1. Every `aws` command of a ```bash/```sh block must also come back
from a real `sh` with the words `shlex.split` reads in it (nothing a shell
would expand, such as an unquoted `$LATEST`).
"""

from __future__ import annotations

import re
import shlex

from tests.unit.test_pasted_commands import shell_words
from workshop.config import REPO_ROOT

V2_ONLY = ["--cli-binary-format", "raw-in-base64-out"]
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```", re.M | re.S)


def aws_commands(text: str) -> list[tuple[str, str]]:
    """Each `aws ...` command of the shell blocks (continuation lines joined), with the prose just before its block."""
    found = []
    end = 0
    for fence in _FENCE.finditer(text):
        prose, end = text[end : fence.start()], fence.end()
        if fence["lang"] not in ("bash", "sh", "shell"):
            continue
        for line in fence["body"].replace("\\\n", " ").splitlines():
            if line.strip().startswith("aws "):
                found.append((" ".join(line.split()), prose))
    return found


def readme_problems(text: str) -> list[str]:
    """What is wrong with the AWS CLI commands of `text`, one line each."""
    commands = aws_commands(text)
    problems = []
    words = {command: shlex.split(command, comments=True) for command, _ in commands}
    for command, prose in commands:
        if shell_words(command) != words[command]:
            problems.append(f"a shell changes its arguments (quote them): {command}")
        if not _has(words[command], V2_ONLY):
            continue
        if "AWS CLI v2" not in prose:
            problems.append(f"uses {' '.join(V2_ONLY)} and the text before its block does not say AWS CLI v2: {command}")
        v1 = _without(words[command], V2_ONLY)
        twins = [prose for other, prose in commands if words[other] == v1]
        if not twins:
            problems.append(f"has no AWS CLI v1 form (the same without {' '.join(V2_ONLY)}): {command}")
        elif not any("AWS CLI v1" in prose for prose in twins):
            problems.append(f"its v1 form is not introduced as AWS CLI v1's: {command}")
    return problems


def _has(words: list[str], run: list[str]) -> bool:
    return any(words[i : i + len(run)] == run for i in range(len(words)))


def _without(words: list[str], run: list[str]) -> list[str]:
    for i in range(len(words)):
        if words[i : i + len(run)] == run:
            return words[:i] + words[i + len(run) :]
    return words


def test_the_readmes_aws_commands_paste_and_say_which_cli() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert aws_commands(text), "no aws command found in the README's shell blocks"
    problems = readme_problems(text)
    assert not problems, "\n".join(problems)


def test_the_check_sees_an_unquoted_latest_and_a_v2_command_without_its_v1_form() -> None:
    sample = (
        "Invoke it:\n\n```bash\n"
        "aws lambda invoke --function-name my-requests:$LATEST out.json\n"
        "aws lambda invoke --function-name f:live \\\n  --cli-binary-format raw-in-base64-out --payload '{}' out.json\n"
        "```\n"
    )
    problems = readme_problems(sample)
    assert any(p.startswith("a shell changes its arguments") and "$LATEST" in p for p in problems), problems
    assert any("does not say AWS CLI v2" in p for p in problems), problems
    assert any(p.startswith("has no AWS CLI v1 form") for p in problems), problems


def test_a_v2_command_with_its_v1_form_passes() -> None:
    sample = (
        "With the AWS CLI v2:\n\n```bash\naws lambda invoke --function-name 'f:$LATEST' --cli-binary-format raw-in-base64-out --payload '{}' out.json\n```\n"
        "With the AWS CLI v1:\n\n```sh\naws lambda invoke --function-name 'f:$LATEST' --payload '{}' out.json\n```\n"
    )
    assert readme_problems(sample) == []
