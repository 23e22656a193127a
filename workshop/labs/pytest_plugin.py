"""Fixtures for the labs' stage checks.

Each lab's checks/conftest.py imports them and names its lab folder, e.g.::

    from workshop.labs.pytest_plugin import in_process_run, lab_at, lab_handler, live_run, target  # noqa: F401

    lab = lab_at(__file__)


A check is written once and runs against the target chosen by LAB_TARGET:
the learner's `handler.py` (default), the pristine `starter/` or the
`solution/`. Behaviour checks use one in-process execution per session
(fast; workshop/labs/harness/ has one harness per service); the live checks
use one real execution on the local stack (harness/live.py).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from workshop.labs.harness import live
from workshop.labs.harness.in_process import set_environment
from workshop.labs.harness.saga import run_saga
from workshop.labs.model import Lab, current_target, load_lab
from workshop.labs.preflight import describe
from workshop.labs.report_plugin import IMPORT_MARK, UNEXPECTED
from workshop.labs.run import ExecutionRun


def lab_at(conftest: str) -> Callable[[], Lab]:
    """The session's `lab` fixture for the lab whose checks/conftest.py is `conftest` (pass `__file__`)."""
    path = Path(conftest).resolve().parent.parent

    @pytest.fixture(scope="session", name="lab")
    def lab() -> Lab:
        return load_lab(path)

    return lab


@pytest.fixture(scope="session")
def target() -> str:
    return current_target()


@pytest.fixture(scope="session")
def lab_handler(lab: Lab, target: str) -> ModuleType:
    """The handler module the checks are about, imported with the lab's function environment."""
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon in-process
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Workshop")
    set_environment(lab.env_overrides)
    path = lab.handler_path(target)
    name = f"lab_{lab.number}_{target}_handler"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the learner's file does not import: say so plainly, with its line
        problem = describe(exc, path)
        where = f" at line {problem.line}" if problem.line else ""
        pytest.fail(f"{path.name} {IMPORT_MARK} {problem.kind}{where}: {problem.message}", pytrace=False)
    return module


def _expect_end(fixture: str, lab: Lab, run: ExecutionRun) -> ExecutionRun:
    """Note a run that ended other than the lab expects: its checks' failures get advice for that (report_plugin)."""
    expected = getattr(lab.module, "EXPECTED_STATUS", "SUCCEEDED")
    if run.status != expected:
        error = run.error
        if isinstance(error, dict):
            text = f"{error.get('ErrorType', '')}: {error.get('ErrorMessage', '')}"
        else:
            text = f"{getattr(error, 'type', '') or ''}: {getattr(error, 'message', '') or ''}" if error else ""
        UNEXPECTED[fixture] = f"{run.status}" + (f" ({text.strip(': ')})" if text.strip(": ") else "")
    return run


@pytest.fixture(scope="session")
def in_process_run(lab: Lab, lab_handler: ModuleType) -> ExecutionRun:
    """One execution of the lab's payload through the order saga in-process (harness/saga.py)."""
    return _expect_end("in_process_run", lab, run_saga(lab_handler.lambda_handler, lab.payload))


@pytest.fixture(scope="session")
def live_run(lab: Lab, target: str) -> ExecutionRun:
    """One real execution of the lab's payload on the local stack (started if it is not running).

    Under make lab-N, the execution that command just ran (LAB_LIVE_EXECUTION), read back.
    """
    return _expect_end("live_run", lab, live.live_run(lab, target))
