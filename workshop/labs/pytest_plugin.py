"""Fixtures for the labs' stage checks.

Each lab's checks/conftest.py imports them and names its lab folder, e.g.::

    from workshop.labs.pytest_plugin import early_live_run, in_process_run, lab_at, lab_handler, live_run, target  # noqa: F401

    lab = lab_at(__file__)


A check is written once and runs against the target chosen by LAB_TARGET:
the learner's `handler.py` (default), the pristine `starter/` or the
`solution/`. Behaviour checks use one in-process execution per session
(fast; workshop/labs/harness/ has one harness per service); the live checks
use one real execution on the local stack (harness/live.py), started before
the first check (early_live_run) so it runs while the in-process ones do.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from workshop.labs.checks import LIVE_EXECUTION_ENV, LIVE_EXECUTION_FILE_ENV
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


@pytest.fixture(scope="session", autouse=True)
def sample_stock(lab: Lab) -> Iterator[None]:
    """After a lab's checks, the order saga's sample stock back to its seeded levels (workshop/stack/seed.py).

    Each run reserves a book (the live run, and the checks' own orders): a
    room's day of `make lab-N` and `make watch` would empty the stock, and the
    order be rejected, which no stage is about. Restocked at the end of every
    checks session, off the critical path (the live run has already reserved);
    a session stopped at a first error leaves it to the next one.
    """
    yield
    if lab.base_function != "order-saga":
        return
    from workshop.config import StackConfig
    from workshop.stack.seed import restock
    from workshop.stack.status import ready

    config = StackConfig()
    if ready(config):  # a stack stopped meanwhile: `make up` seeds an empty table, and the next checks restock
        restock(config)


@pytest.fixture(scope="session")
def in_process_run(lab: Lab, lab_handler: ModuleType) -> ExecutionRun:
    """One execution of the lab's payload through the order saga in-process (harness/saga.py)."""
    return _expect_end("in_process_run", lab, run_saga(lab_handler.lambda_handler, lab.payload))


_started_early: dict[str, bool] = {}  # the ARN start_live_early started: read back yet?


@pytest.fixture(scope="session", autouse=True)
def early_live_run(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The lab's live execution, started before the first check when a check reads `live_run`.

    Named so that it does not start with "live": every check uses it (autouse), and
    report_plugin.py says "on the stack" of a check that uses a `live*` fixture.

    Why: the checks alone ran the in-process checks (a second or more) and then
    the live execution (seconds of durable waits), one after the other. Started
    first, the execution runs on the stack while the in-process checks run here;
    live_run then reads it back (LAB_LIVE_EXECUTION, as under make lab-N).
    """
    arn = start_live_early(request, ("live_run",))
    yield arn
    end_live_early(arn)


def start_live_early(request: pytest.FixtureRequest, fixtures: tuple[str, ...]) -> str | None:
    """Deploy and start the lab's payload when a collected check uses one of `fixtures`; its ARN.

    Not when make lab-N hands its own run over (LAB_LIVE_EXECUTION or its
    file), nor when no check reads the run. Set as LAB_LIVE_EXECUTION, so
    harness/live.py's live_run reads it back; pair with end_live_early().
    """
    wanted = any(set(fixtures) & set(getattr(item, "fixturenames", ())) for item in request.session.items)
    if not wanted or os.environ.get(LIVE_EXECUTION_ENV) or os.environ.get(LIVE_EXECUTION_FILE_ENV):
        return None
    from workshop.config import StackConfig

    lab, target = request.getfixturevalue("lab"), request.getfixturevalue("target")
    config = StackConfig()
    live.ensure_stack(config)
    arn = live.deploy(lab, target, config).start(lab.payload)
    os.environ[LIVE_EXECUTION_ENV] = arn
    _started_early[arn] = False
    return arn


def read_early() -> None:
    """The fixture reading the live run calls this: the execution start_live_early started is read back."""
    arn = os.environ.get(LIVE_EXECUTION_ENV, "")
    if arn in _started_early:
        _started_early[arn] = True


def end_live_early(arn: str | None) -> None:
    """At the session's end: an execution started early and never read (-x, a stopped run) is stopped on the stack."""
    if arn is None:
        return
    os.environ.pop(LIVE_EXECUTION_ENV, None)
    if _started_early.pop(arn, True):
        return
    from workshop.config import StackConfig, boto3_client

    try:
        boto3_client("lambda", StackConfig()).stop_durable_execution(
            DurableExecutionArn=arn, Error={"ErrorType": "LabChecksEnded", "ErrorMessage": "the checks ended before reading it"}
        )
    except Exception:  # noqa: BLE001 - it ended meanwhile: nothing to stop
        pass


@pytest.fixture(scope="session")
def live_run(lab: Lab, target: str) -> ExecutionRun:
    """One real execution of the lab's payload on the local stack (started if it is not running).

    Under make lab-N, the execution that command just ran (LAB_LIVE_EXECUTION), read back;
    in the checks alone, the one early_live_run started before the first check.
    """
    read_early()
    return _expect_end("live_run", lab, live.live_run(lab, target))
