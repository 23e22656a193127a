"""Reading a required environment variable when it is used, with one error for a missing one.

Each service's settings module names its variables; this is the lookup they
share. Reading at call time rather than import time keeps each function
independent of the variables only another function gets, and lets tests set
them per test. The values are stable for a deployed version, so replayed code
reads the same value every time.
"""

from __future__ import annotations

import os


class MissingSettingError(RuntimeError):
    """A required environment variable is not set."""


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise MissingSettingError(f"environment variable {name} is not set")
    return value
