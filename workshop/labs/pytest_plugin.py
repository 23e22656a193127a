"""Fixtures for the labs' stage checks.

Each lab's checks/conftest.py imports them and defines the `lab` fixture
(its own folder), e.g.::

    from workshop.labs.pytest_plugin import in_process_run, lab_handler, live_run, target  # noqa: F401

    @pytest.fixture(scope="session")
    def lab() -> Lab:
        return load_lab(Path(__file__).resolve().parent.parent)


A check is written once and runs against the target chosen by LAB_TARGET:
the learner's `handler.py` (default), the pristine `starter/` or the
`solution/`. Behaviour checks use one in-process execution per session
(fast); the live checks use one real execution on the local stack.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

import pytest

from workshop.labs.model import Lab, current_target
from workshop.labs.checks import LIVE_EXECUTION_ENV
from workshop import registry
from workshop.labs.run import ExecutionRun, read_live, run_in_process, run_live


@pytest.fixture(scope="session")
def target() -> str:
    return current_target()


@pytest.fixture(scope="session")
def lab_handler(lab: Lab, target: str) -> ModuleType:
    """The handler module the checks are about, imported with the lab's function environment."""
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon in-process
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Workshop")
    for key, value in lab.env_overrides.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    path = lab.handler_path(target)
    name = f"lab_{lab.number}_{target}_handler"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the learner's file does not import: say so plainly
        pytest.fail(f"{path.relative_to(lab.path.parent.parent)} does not import: {type(exc).__name__}: {exc}", pytrace=False)
    return module


@pytest.fixture(scope="session")
def in_process_run(lab: Lab, lab_handler: ModuleType) -> ExecutionRun:
    """One execution of the lab's payload under DurableFunctionTestRunner, with AWS fakes."""
    return run_in_process(lab_handler.lambda_handler, lab.payload)


@pytest.fixture(scope="session")
def live_run(lab: Lab, target: str) -> ExecutionRun:
    """One real execution of the lab's payload on the local stack (started if it is not running).

    Under make lab-N, the execution that command just ran (LAB_LIVE_EXECUTION), read back.
    """
    from workshop import stack
    from workshop.config import StackConfig

    config = StackConfig()
    if not stack.status(config, say=lambda line: None):
        stack.up(config, say=lambda line: None)
    name = lab.function_name if target == "learner" else f"{lab.function_name}-{target}"
    just_ran = os.environ.get(LIVE_EXECUTION_ENV)
    if just_ran:  # make lab-N ran this target's code on the stack a moment ago: check that execution
        return read_live(config, name, just_ran)
    registry.register_copy(config, name, str(lab.handler_path(target).parent), lab.base_function, lab.env_overrides)
    lab.prepare_live(config)
    return run_live(config, name, lab.payload)
