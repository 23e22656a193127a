"""The lab runner's own pieces: lab folders, stage files, capture per invocation, failure text."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from workshop.config import REPO_ROOT
from workshop.labs.capture import capture_log_lines, per_invocation
from workshop.labs.checks import _failure_text
from workshop.labs import manifest
from workshop.labs.model import TARGETS, all_labs, find_lab, load_lab

LABS = all_labs()


def test_labs_are_found_and_numbered_from_one():
    assert [lab.number for lab in LABS] == list(range(1, len(LABS) + 1))
    assert [(lab.number, lab.path.name, lab.title) for lab in LABS] == [(e.number, e.folder, e.title) for e in manifest.LABS]


def _readme_lab_rows(text: str) -> list[tuple[int, str, str]]:
    """The README's lab table: `| `make lab-N` | utility | service | what you fix |`, one row a lab."""
    rows = re.findall(r"^\| `make lab-(\d+)` \| ([^|]+?) \| ([^|]+?) \|", text, flags=re.M)
    return [(int(number), utility, service) for number, utility, service in rows]


def _service_name(function: str) -> str:
    """A service as the READMEs name it: the heading of services/<package>/README.md ("# SQS ingest")."""
    readme = REPO_ROOT / "services" / function.replace("-", "_") / "README.md"
    assert readme.is_file(), f"the manifest names the service {function!r}, but {readme} does not exist"
    return readme.read_text(encoding="utf-8").splitlines()[0].removeprefix("# ").strip()


def test_the_readme_lab_table_is_the_manifest():
    """The README's table of labs and each lab's README heading say what workshop/labs/manifest.py says.

    The README is written by hand, so this is what keeps it from drifting when
    a lab is added, renumbered, renamed or moved to another service.
    """
    rows = _readme_lab_rows((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    expected = [(e.number, e.title, _service_name(e.service)) for e in manifest.LABS]
    assert [(n, utility, service.casefold()) for n, utility, service in rows] == [
        (n, title, service.casefold()) for n, title, service in expected
    ], "README.md's lab table (number, utility, service) differs from workshop/labs/manifest.py"
    for entry in manifest.LABS:
        heading = (entry.path / "README.md").read_text(encoding="utf-8").splitlines()[0]
        assert heading == f"# Lab {entry.number} — {entry.title}", f"workshop/{entry.folder}/README.md"


def test_the_readme_check_sees_a_drifted_row():
    assert _readme_lab_rows("| `make lab-4` | Idempotency | SQS ingest | duplicates |\n| `make lab-5` | Parsers | ingest | x |") == [
        (4, "Idempotency", "SQS ingest"),
        (5, "Parsers", "ingest"),
    ]


def test_make_help_says_the_manifests_lab_numbers():
    assert manifest.numbers_text() == f"1-{len(manifest.LABS)}"
    assert manifest.numbers_text([1, 2, 4]) == "1, 2, 4"
    assert manifest.numbers_text([]) == "none yet"


def _fake_labs(tmp_path, monkeypatch, *entries):
    for entry in entries:
        (tmp_path / entry.folder).mkdir()
        (tmp_path / entry.folder / "lab.py").write_text("GOAL = 'g'\nSTAGES = []\nPAYLOAD = {}\n")
    monkeypatch.setattr(manifest, "LABS_DIR", tmp_path)
    monkeypatch.setattr(manifest, "LABS", entries)


def test_a_folder_not_in_the_manifest_is_not_a_lab(tmp_path, monkeypatch):
    _fake_labs(tmp_path, monkeypatch, manifest.LabEntry(1, "lab-1-demo", "Demo", service="order-saga"))
    (tmp_path / "lab-2-stray").mkdir()
    (tmp_path / "lab-2-stray" / "lab.py").write_text("GOAL = 'g'\nSTAGES = []\nPAYLOAD = {}\n")
    assert [(lab.number, lab.topic, lab.title, lab.base_function) for lab in all_labs()] == [(1, "demo", "Demo", "order-saga")]
    with pytest.raises(SystemExit, match="There is no lab 2. Labs available: 1."):
        find_lab(2)
    with pytest.raises(SystemExit, match="no entry for the folder 'lab-2-stray'"):
        load_lab(tmp_path / "lab-2-stray")


def test_a_manifest_entry_without_its_folder_is_an_error(tmp_path, monkeypatch):
    _fake_labs(tmp_path, monkeypatch, manifest.LabEntry(1, "lab-1-demo", "Demo", service="order-saga"))
    monkeypatch.setattr(manifest, "LABS", (*manifest.LABS, manifest.LabEntry(2, "lab-2-gone", "Gone", service="ingest")))
    with pytest.raises(SystemExit, match=r"lab 2 \(Gone\) is in workshop/labs/manifest.py but .*lab-2-gone/lab.py does not exist"):
        all_labs()
    with pytest.raises(ValueError, match="must be named lab-3-<topic>"):
        manifest.LabEntry(3, "lab-4-wrong", "Wrong", service="ingest")


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


def test_checks_started_before_the_live_run_read_the_execution_handed_over(tmp_path):
    """make lab-N starts them before its stack check; its live run's ARN reaches the live fixture once started."""
    from workshop.config import StackConfig
    from workshop.labs.checks import start_checks

    reads = (
        "from workshop.labs.harness.live import handed_over\n\n"
        "def test_reads_the_live_run():\n    assert handed_over() == 'arn:lab-9-run', 'the live run was not handed over'\n"
    )
    no_plugins = "import sys\n\ndef test_no_autoloaded_plugin():\n    assert 'xdist' not in sys.modules, 'pytest loaded xdist'\n"
    pending = start_checks(_lab_with_checks(tmp_path, reads, no_plugins), "solution", StackConfig(), follow_live_run=True)
    pending.handover("arn:lab-9-run")
    run = pending.result(deadline_s=120)
    assert run.stages[1].passed, run.stages[1].failures
    assert run.stages[2].passed, run.stages[2].failures  # pytest's plugin autoload is off for the checks


def test_waiting_for_a_handover_that_never_comes_ends_with_its_cause(tmp_path, monkeypatch):
    from workshop.labs.checks import LIVE_EXECUTION_FILE_ENV
    from workshop.labs.deadlines import StuckError
    from workshop.labs.harness.live import handed_over

    monkeypatch.delenv(LIVE_EXECUTION_FILE_ENV, raising=False)
    assert handed_over() is None  # not started to follow a run: the fixture starts its own
    monkeypatch.setenv(LIVE_EXECUTION_FILE_ENV, str(tmp_path / "never-written.txt"))
    with pytest.raises(StuckError, match="started no live execution within 0 s"):
        handed_over(deadline_s=0.1)


def test_the_checks_pytest_ends_at_once_with_its_status_and_its_report(tmp_path):
    """quick_exit.py skips the interpreter's teardown: pytest's exit status and JUnit report must survive it."""
    import os
    import sys

    (tmp_path / "test_one.py").write_text("def test_fails():\n    assert False, 'seen'\n\ndef test_passes():\n    pass\n")
    report = tmp_path / "report.xml"
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider", "-p", "workshop.labs.quick_exit", f"--junitxml={report}"],
        capture_output=True, text=True, env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "1 failed, 1 passed" in ran.stdout, ran.stdout
    assert 'failures="1"' in report.read_text(encoding="utf-8")
