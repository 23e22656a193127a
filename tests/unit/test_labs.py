"""The lab runner's own pieces: lab folders, stage files, capture per invocation, failure text."""

from __future__ import annotations

import logging
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from workshop.config import REPO_ROOT
from workshop.labs.capture import capture_log_lines, per_invocation
from workshop.labs.checks import _failure_text
from workshop.labs.model import TARGETS, all_labs

LABS = all_labs()


def test_labs_are_found_and_numbered_from_one():
    assert [lab.number for lab in LABS] == list(range(1, len(LABS) + 1))


@pytest.mark.parametrize("lab", LABS, ids=[f"lab-{lab.number}" for lab in LABS])
def test_every_stage_has_one_check_file_and_a_hint(lab):
    assert sorted(lab.stage_files()) == [stage.number for stage in lab.stages]
    assert all(stage.hint.strip() and stage.title.strip() for stage in lab.stages)
    for target in TARGETS:
        assert lab.handler_path(target).exists(), f"{lab.path.name}: no handler for {target}"
    assert (lab.path / "README.md").exists()


@pytest.mark.parametrize("lab", LABS, ids=[f"lab-{lab.number}" for lab in LABS])
def test_the_committed_learner_file_is_the_starter(lab):
    """A fresh clone starts every lab at stage 1; local edits by a learner do not count."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    relative = lab.path.relative_to(REPO_ROOT)

    def committed(path: str) -> str:
        return subprocess.run(["git", "show", f"HEAD:{relative}/{path}"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout

    assert committed("handler.py") == committed("starter/handler.py")


def test_capture_files_lines_under_the_invocation_that_wrote_them():
    log = logging.getLogger("lab-capture-test")
    handler = logging.StreamHandler()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with capture_log_lines() as sink:
            def fake_handler(event, context):
                log.info("line %s", event)
                print(f"printed {event}")
                return event

            wrapped = per_invocation(fake_handler, sink)
            wrapped(1, None)
            wrapped(2, None)
    finally:
        log.removeHandler(handler)
    assert sink.invocations == [["line 1", "printed 1"], ["line 2", "printed 2"]]


def test_failure_text_keeps_the_message_and_drops_pytest_introspection():
    element = ET.fromstring(
        '<failure message="AssertionError: expected X once; saw it 3 times&#10;assert 3 == 1&#10; +  where 3 = f()">tb</failure>'
    )
    assert _failure_text(element) == "expected X once; saw it 3 times"


def test_lab_run_phases_add_up_and_are_written_only_when_asked(tmp_path, monkeypatch):
    """`make bench` reads WORKSHOP_LAB_TIMINGS; a learner's `make lab-N` writes nothing."""
    import json

    from workshop.labs.__main__ import TIMINGS_ENV, Phases

    phases = Phases()
    for _ in range(2):
        with phases.phase("checks"):
            pass
    with pytest.raises(RuntimeError), phases.phase("live"):
        raise RuntimeError("a failed phase still counts")
    assert set(phases.seconds) == {"checks", "live"}
    monkeypatch.delenv(TIMINGS_ENV, raising=False)
    phases.write()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv(TIMINGS_ENV, str(tmp_path / "phases.json"))
    phases.write()
    assert json.loads((tmp_path / "phases.json").read_text()) == phases.seconds


def _lab_with_checks(tmp_path, stage_1: str, stage_2: str):
    from workshop.labs.model import Lab

    checks = tmp_path / "lab-9-demo" / "checks"
    checks.mkdir(parents=True)
    (checks / "test_stage_1_first.py").write_text(stage_1)
    (checks / "test_stage_2_second.py").write_text(stage_2)
    return Lab(number=9, topic="demo", path=checks.parent, title="demo", goal="", stages=[], payload={})


def test_started_checks_report_each_stage_when_collected(tmp_path):
    from workshop.config import StackConfig
    from workshop.labs.checks import start_checks

    lab = _lab_with_checks(
        tmp_path,
        "def test_ok():\n    assert True\n",
        "def test_not_yet():\n    assert False, 'expected two lines, saw one'\n",
    )
    run = start_checks(lab, "solution", StackConfig()).result(deadline_s=120)
    assert run.stages[1].passed and run.stages[1].tests == 1
    assert not run.stages[2].passed and run.stages[2].failures == ["expected two lines, saw one"]


def test_started_checks_that_are_not_collected_are_stopped_by_pid(tmp_path):
    import os

    from workshop.config import StackConfig
    from workshop.labs.checks import start_checks

    slow = "import time\n\ndef test_slow():\n    time.sleep(60)\n"
    pending = start_checks(_lab_with_checks(tmp_path, slow, slow), "solution", StackConfig())
    pid = pending._process.pid
    pending.stop()
    assert pending._process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: the pid names no process of ours any more
