"""Each operation kind on the live stack, its history compared with the in-process one.

One private stack and one `workshop deploy` of a template holding every
fidelity function (written outside the repository), for the whole module;
then one test per kind: the in-process history (DurableFunctionTestRunner,
corrected to AWS's shape where the runner is known to differ: aws_expected)
and the live one (GetDurableExecutionHistory through the function host) must
agree in every compared field (normalise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fidelity.aws_expected import as_on_aws
from tests.fidelity.cases import CASES, TARGETS, Case
from tests.fidelity.chained import Events
from tests.fidelity.compare import assert_same_history, joined
from tests.fidelity.in_process import handler_module, run_in_process
from tests.fidelity.live import run_live
from tests.fidelity.normalise import normalise
from tests.fidelity.template import write_template
from tests.integration.conftest import make_config, running_stack
from workshop.config import boto3_client
from workshop.deploy import delete, deploy

pytestmark = pytest.mark.live

EXPECTED = "expected (in-process, as on AWS)"


@pytest.fixture(scope="module")
def lam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Lambda client of a private stack on which the fidelity template is deployed (once)."""
    with running_stack(make_config(tmp_path_factory.mktemp("fidelity-stack"))) as config:
        template = write_template(tmp_path_factory.mktemp("fidelity-template"))
        deployed = deploy(config, template, stack_name="fidelity")
        try:
            assert {case.function_name for case in CASES} | {target.name for target in TARGETS} == set(deployed.functions), deployed.functions
            yield boto3_client("lambda", config)
        finally:
            delete(config, deployed.name)


@pytest.fixture(scope="module")
def live_runs(lam: Any) -> Callable[[Case], list[Events]]:
    """A case's live histories, run once per module whichever test asks first."""
    runs: dict[str, list[Events]] = {}

    def run(case: Case) -> list[Events]:
        if case.kind not in runs:
            runs[case.kind] = run_live(lam, case)
        return runs[case.kind]

    return run


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.kind)
def test_live_history_agrees_with_in_process(case: Case, live_runs: Callable[[Case], list[Events]]) -> None:
    timeouts = getattr(handler_module(case.kind), "CALLBACK_TIMEOUTS", {})
    expected = joined([normalise(as_on_aws(history, timeouts)) for history in run_in_process(case)])
    live = joined([normalise(history) for history in live_runs(case)])
    assert_same_history(expected, live, EXPECTED, "live")


# ---------------------------------------------------------------- gaps of the runner's own history code
# Both sides run dex-local-runner's history code, so where it differs from AWS the two would agree
# and the comparison above could not see it. The live stack fixes these (workshop/runner/aws_shapes.py)
# and the reference is corrected to match (aws_expected.py); these say what AWS gives, from the
# handler's own configuration rather than from either runner.
BY_KIND = {case.kind: case for case in CASES}


def _event(histories: list[Events], event_type: str) -> dict[str, Any]:
    return next(event for event in histories[0] if event["EventType"] == event_type)


def test_callback_started_carries_its_configured_timeouts(live_runs: Callable[[Case], list[Events]]) -> None:
    from fidelity_handlers.callback import HEARTBEAT_TIMEOUT_S, TIMEOUT_S

    details = _event(live_runs(BY_KIND["callback"]), "CallbackStarted")["CallbackStartedDetails"]
    assert (details.get("Timeout"), details.get("HeartbeatTimeout")) == (TIMEOUT_S, HEARTBEAT_TIMEOUT_S)


def test_a_whole_error_is_not_marked_truncated(live_runs: Callable[[Case], list[Events]]) -> None:
    error = _event(live_runs(BY_KIND["callback_timeout"]), "CallbackTimedOut")["CallbackTimedOutDetails"]["Error"]
    assert error["Payload"]["ErrorType"] and error["Truncated"] is False
