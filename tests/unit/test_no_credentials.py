"""Nothing in the repository holds a real AWS credential, and the local ones are visibly dummies.

Every file git tracks (git ls-files) is scanned for AWS access key ids
(AKIA.../ASIA..., 20 characters) and for a 40-character secret next to
``aws_secret_access_key`` / ``AWS_SECRET_ACCESS_KEY`` / ``SecretAccessKey``.
AWS's documented example keys (ending in EXAMPLE / EXAMPLEKEY) are allowed.
"""

from __future__ import annotations

import re
import subprocess

from workshop import config
from workshop.config import REPO_ROOT

ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AIPA|AROA|ANPA|ANVA|AGPA)[A-Z0-9]{16}(?![A-Z0-9])")
SECRET_NEAR_NAME = re.compile(
    r"(?i)(?:aws_?secret_?access_?key|secretaccesskey)[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
)
DOCUMENTED_EXAMPLES = ("EXAMPLE", "EXAMPLEKEY")


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name]


def findings(text: str) -> list[str]:
    found = [m.group(0) for m in ACCESS_KEY_ID.finditer(text) if not m.group(0).endswith(DOCUMENTED_EXAMPLES)]
    found += [m.group("secret") for m in SECRET_NEAR_NAME.finditer(text) if not m.group("secret").endswith(DOCUMENTED_EXAMPLES)]
    return found


def test_the_patterns_catch_real_looking_keys() -> None:
    # Assembled here so that this file itself holds no key-shaped string.
    key_id = "AKIA" + "Q3EGRLFCPOQ5ZJ7K"
    secret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzzzzzzzzzz"
    assert findings(f"aws_access_key_id = {key_id}") == [key_id]
    assert findings(f'AWS_SECRET_ACCESS_KEY="{secret}"') == [secret]
    assert findings("ASIA" + "ABCDEFGHIJKLMNOP") == ["ASIA" + "ABCDEFGHIJKLMNOP"]
    assert findings("AKIA" + "IOSFODNN7EXAMPLE") == []


def test_no_tracked_file_holds_an_aws_credential() -> None:
    files = tracked_files()
    assert len(files) > 50, "git ls-files found almost nothing: is this the repository?"
    suspicious = {}
    for name in files:
        path = REPO_ROOT / name
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):  # deleted in the work tree, or a submodule
            continue
        if b"\0" in data[:4096]:
            continue  # binary
        if found := findings(data.decode("utf-8", errors="replace")):
            suspicious[name] = found
    assert not suspicious, f"credential-shaped strings in tracked files: {suspicious}"


def test_local_credentials_are_visibly_dummies() -> None:
    env = config.aws_env(config.StackConfig())
    key_id, secret = env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    assert "dummy" in key_id and "not-a-real-credential" in secret
    assert not findings(f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}")
    assert config.ACCOUNT_ID == "000000000000"
    # and they are what the stack's processes and clients get
    assert (key_id, secret) == (config.DUMMY_ACCESS_KEY_ID, config.DUMMY_SECRET_ACCESS_KEY)
