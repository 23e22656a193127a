"""A private stack for live tests: free ports, a temporary state folder, stopped by pid.

It never touches the learner's own stack (default ports, .workshop/), so the
tests can run while a lab is open in another terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from workshop import stack
from workshop.config import StackConfig, stack_env
from workshop.labs.harness.in_process import environment


free_port = stack.free_port
make_config = stack.private_config


export = stack_env  # the env vars that make StackConfig() (CLI, clients) point at a stack


@contextmanager
def running_stack(config: StackConfig, extra_env: dict[str, str] | None = None) -> Iterator[StackConfig]:
    """Up with its env exported (so StackConfig() finds it), then down by pid and the env restored."""
    with environment({**export(config), **(extra_env or {})}):
        try:
            stack.up(config, say=lambda line: None)
            yield config
        finally:
            stack.down(config, say=lambda line: None)


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    with running_stack(make_config(tmp_path_factory.mktemp("stack"))) as config:
        yield config


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The browser tests' skip reason, once, even under -q: how to enable them (tests/integration/browser.py)."""
    from tests.integration.browser import SKIP_PREFIX

    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        if SKIP_PREFIX in str(reason):
            terminalreporter.write_line(str(reason).removeprefix("Skipped: "))
            return
