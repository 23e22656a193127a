"""The template writer: an ordinary SAM template and its code, in a folder outside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.fidelity.cases import CASES, EXECUTION_TIMEOUT_S, TARGETS
from tests.fidelity.template import write_template
from workshop.config import REPO_ROOT


def test_template_holds_every_case_and_the_invoke_targets(tmp_path: Path) -> None:
    template = write_template(tmp_path)
    body = yaml.safe_load(template.read_text())
    assert body["Transform"] == "AWS::Serverless-2016-10-31"
    functions = {res["Properties"]["FunctionName"]: res["Properties"] for res in body["Resources"].values()}
    assert set(functions) == {case.function_name for case in CASES} | {target.name for target in TARGETS}
    durable = {case.function_name for case in CASES} | {target.name for target in TARGETS if target.durable}
    for name, props in functions.items():
        assert ("DurableConfig" in props) == (name in durable), name
        if name in durable:
            assert props["DurableConfig"]["ExecutionTimeout"] == EXECUTION_TIMEOUT_S
            assert props["AutoPublishAlias"] == "live"
        assert props["Runtime"] == "python3.13"
        module, _, attribute = props["Handler"].rpartition(".")
        source = template.parent / props["CodeUri"] / (module.replace(".", "/") + ".py")
        assert source.is_file() and f"def {attribute}(" in source.read_text()


def test_the_targets_are_the_names_the_handlers_invoke() -> None:
    from fidelity_handlers import invoke, invoke_durable

    assert {invoke.INVOKE_TARGET, invoke_durable.DURABLE_INVOKE_TARGET} == {target.name for target in TARGETS}


def test_template_and_code_are_outside_the_repository(tmp_path: Path) -> None:
    template = write_template(tmp_path)
    assert not template.resolve().is_relative_to(REPO_ROOT)
    assert not list(template.parent.rglob("__pycache__"))


def test_a_folder_inside_the_repository_is_refused() -> None:
    with pytest.raises(ValueError, match="inside the repository"):
        write_template(REPO_ROOT / "tests" / "fidelity" / "out")
    assert not (REPO_ROOT / "tests" / "fidelity" / "out").exists()
