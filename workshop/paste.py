"""Command lines the workshop prints for the learner to paste into a shell.

Why a module of its own: a printed command is run by a shell, which expands
what it recognises before the command sees it. A function qualifier such as
`my-requests:$LATEST` pasted bare reaches the AWS CLI as `my-requests:` (the
shell expands `$LATEST` to nothing) and the call fails with
InvalidParameterValue; a state folder with a space in its path splits in two.
Every printed command is built here from its arguments, each quoted only where
a shell would change it, so the line stays as readable as one typed by hand.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence


def pasteable(args: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """`args` as one shell command line, after `KEY=value` settings for its environment.

    A setting's value is quoted, not the whole `KEY=value` word: a shell takes
    `'KEY=value' cmd` for a command named `KEY=value`.
    """
    if isinstance(args, str):
        raise TypeError(f"pass the command's arguments, not a command line ({args!r}): they are quoted here")
    settings = [f"{key}={shlex.quote(value)}" for key, value in (env or {}).items()]
    return " ".join([*settings, shlex.join(args)])
