"""Each operation kind on the live stack, its history compared with the in-process one.

One private stack and one `workshop deploy` of a template holding every
fidelity function (written outside the repository), for the whole module;
then one test per kind: the in-process history (DurableFunctionTestRunner,
corrected to AWS's shape where the runner is known to differ: aws_expected)
and the live one (GetDurableExecutionHistory through the function host) must
agree in every compared field (normalise).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fidelity.aws_expected import as_on_aws
from tests.fidelity.cases import CASES, Case
from tests.fidelity.compare import assert_same_history, joined
from tests.fidelity.in_process import run_in_process
from tests.fidelity.live import run_live
from tests.fidelity.normalise import normalise
from tests.fidelity.pending import mark_if_affected, raise_if_only_retry_details
from tests.fidelity.template import write_template
from tests.integration.conftest import make_config, running_stack
from workshop.config import boto3_client

pytestmark = pytest.mark.live

EXPECTED = "expected (in-process, as on AWS)"


@pytest.fixture(scope="module")
def lam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Lambda client of a private stack on which the fidelity template is deployed (once)."""
    deployment = pytest.importorskip("workshop.deploy", reason="workshop deploy is not on this branch yet")
    with running_stack(make_config(tmp_path_factory.mktemp("fidelity-stack"))) as config:
        template = write_template(tmp_path_factory.mktemp("fidelity-template"))
        deployed = deployment.deploy(config, template, stack_name="fidelity")
        try:
            assert {case.function_name for case in CASES} <= set(deployed.functions), deployed.functions
            yield boto3_client("lambda", config)
        finally:
            deployment.delete(config, deployed.name)


def _param(case: Case) -> Any:
    """The case, xfail where its live history cannot agree yet (cases.py says why)."""
    marks = [pytest.mark.xfail(reason=case.live_xfail.reason, strict=case.live_xfail.strict)] if case.live_xfail else []
    return pytest.param(case, id=case.kind, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_live_history_agrees_with_in_process(case: Case, lam: Any, request: pytest.FixtureRequest) -> None:
    expected = joined([normalise(as_on_aws(history)) for history in run_in_process(case)])
    mark_if_affected(request, expected)
    live = joined([normalise(history) for history in run_live(lam, case)])
    raise_if_only_retry_details(expected, live)
    assert_same_history(expected, live, EXPECTED, "live")
