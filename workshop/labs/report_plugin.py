"""A pytest plugin for the lab checks' subprocess (`-p workshop.labs.report_plugin`): what each failure was.

The lab runner reads the checks' JUnit report, which says only that a test
failed and with which message. To label the expected/seen box ("in-process"
or "on the stack") and to show advice for the failure that happened rather
than the stage's hint, each failing test gets two properties in the report:

- `where`: "on the stack" for a check marked `live` or using a `live*`
  fixture, else "in-process";
- `kind`: "import" (the handler file does not import), "stuck" (a run passed
  its deadline: deadlines.StuckError), "setup" (a fixture failed otherwise:
  the stack, the lab's set-up), "execution" (the run the check reads ended
  other than the lab expects: UNEXPECTED, filled by the fixtures), or "check"
  (the check's own assertion: the failure its stage's hint addresses);

and `message`, the exception's whole text: JUnit's `message` attribute is
shortened to a budget, which cut long expected/seen texts mid-word.

A step that never returns keeps spinning the runner's worker thread, which
Python's exit would wait for forever (concurrent.futures joins its workers):
once the report is written, a session that found a stuck handler ends with
os._exit instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from workshop.labs.deadlines import StuckError

IMPORT_MARK = "does not import:"  # in the lab_handler fixture's failure message (pytest_plugin.py)

# fixture name -> how its run ended, when not as the lab expects (e.g. "FAILED: ValueError: ...")
UNEXPECTED: dict[str, str] = {}


def where(item: pytest.Item) -> str:
    if item.get_closest_marker("live") or any(name.startswith("live") for name in getattr(item, "fixturenames", ())):
        return "on the stack"
    return "in-process"


def kind(item: pytest.Item, when: str, error: BaseException | None) -> str:
    text = str(error or "")
    if isinstance(error, StuckError):
        return "stuck"
    if IMPORT_MARK in text:
        return "import"
    if when == "setup":
        return "setup"
    if any(name in UNEXPECTED for name in getattr(item, "fixturenames", ())):
        return "execution"
    return "check"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    report = yield
    if report.failed and not any(name == "kind" for name, _ in item.user_properties):
        error = call.excinfo.value if call.excinfo else None
        item.user_properties.append(("where", where(item)))
        item.user_properties.append(("kind", kind(item, call.when, error)))
        if error is not None:
            item.user_properties.append(("message", str(error)))
        for name in getattr(item, "fixturenames", ()):
            if name in UNEXPECTED:
                item.user_properties.append(("execution", UNEXPECTED[name]))
                break
    return report


_EXIT_STATUS: list[int] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    from workshop.labs.harness import in_process

    if in_process._STUCK:  # a thread still runs the learner's loop: do not wait for it at exit
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1] if _EXIT_STATUS else 1)
