"""The lab runner's parts that need no stack: deadlines, the stuck-run cause, advice, progress, preflight, READMEs."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import xml.etree.ElementTree as ET

import pytest

from workshop.config import REPO_ROOT, StackConfig
from workshop.labs import progress
from workshop.labs.advice import advice_for
from workshop.labs.checks import Problem, StageResult, _failure_text
from workshop.labs.deadlines import FUNCTION_TIMEOUT_S, STEP_TIMEOUT_ENV, StuckError, deadlines, timed_out_text, unfinished_step
from workshop.labs.model import all_labs, find_lab


# ------------------------------------------------------------------ deadlines
def test_the_step_deadline_is_the_templates_function_timeout():
    template = (REPO_ROOT / "infra" / "template.yaml").read_text()
    globals_block = template.split("\nGlobals:", 1)[1].split("\nResources:", 1)[0]
    assert int(re.search(r"^    Timeout: (\d+)$", globals_block, re.MULTILINE)[1]) == FUNCTION_TIMEOUT_S


def test_the_override_shortens_every_deadline_and_is_checked(monkeypatch):
    lab = find_lab(1)
    normal = deadlines(lab)
    monkeypatch.setenv(STEP_TIMEOUT_ENV, "3")
    short = deadlines(lab)
    assert short.step_s == 3 and short.live_s < normal.live_s and short.checks_s < normal.checks_s
    monkeypatch.setenv(STEP_TIMEOUT_ENV, "soon")
    with pytest.raises(SystemExit, match="not a whole number"):
        deadlines(lab)


def test_the_unfinished_step_is_the_last_started_and_not_ended():
    events = [
        {"EventType": "StepStarted", "Id": "a", "Name": "reserve-inventory"},
        {"EventType": "StepSucceeded", "Id": "a", "Name": "reserve-inventory"},
        {"EventType": "StepStarted", "Id": "b", "Name": "charge"},
        {"EventType": "InvocationCompleted"},
    ]
    assert unfinished_step(events) == "charge"
    assert unfinished_step(events[:2]) is None
    assert timed_out_text("charge", 30, [1, 2, 3, 4, 5]) == "step `charge` did not return within 30 s: `Sandbox.Timedout` in invocations 1–5"
    assert timed_out_text(None, 3, [2]).startswith("the handler (outside any step) did not return within 3 s")


LOOPING = '''
import threading
from aws_durable_execution_sdk_python import durable_execution

STOP = threading.Event()


def spin(step_context):
    while not STOP.is_set():
        pass


@durable_execution
def lambda_handler(event, context):
    context.step(spin, name="reserve-inventory")
    return {"status": "never"}
'''


def test_an_in_process_step_that_never_returns_is_named_with_its_line(tmp_path, monkeypatch):
    from workshop.labs.harness.saga import run_saga

    monkeypatch.setenv(STEP_TIMEOUT_ENV, "1")
    path = tmp_path / "handler.py"
    path.write_text(LOOPING)
    spec = importlib.util.spec_from_file_location("unit_looping_handler", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    try:
        with pytest.raises(StuckError) as stuck:
            run_saga(module.lambda_handler, find_lab(1).payload)
        text = str(stuck.value)
        assert "step `reserve-inventory` did not return within 1 s, the function's timeout, in invocation 1" in text
        assert re.search(r"handler\.py line (9|10), in spin: `(while not STOP\.is_set\(\):|pass)`", text), text
        with pytest.raises(StuckError, match="found earlier in these checks"):  # not a second spinning thread
            run_saga(module.lambda_handler, find_lab(1).payload)
    finally:
        module.STOP.set()  # the runner cannot stop the thread: the test's own handler can


# ------------------------------------------------------------------ checks' report
def test_a_setup_failure_reads_as_its_message():
    element = ET.fromstring('<error message="failed on setup with &quot;Failed: handler.py does not import: SyntaxError at line 3: x&quot;">tb</error>')
    assert _failure_text(element) == "handler.py does not import: SyntaxError at line 3: x"


def test_the_whole_message_wins_over_the_shortened_attribute():
    element = ET.fromstring('<failure message="AssertionError: expected a, saw re...">tb</failure>')
    assert _failure_text(element, "expected a, saw read it whole\nassert False") == "expected a, saw read it whole"


# ------------------------------------------------------------------ advice
def _failed(*problems: Problem) -> StageResult:
    result = StageResult(number=1, passed=True)
    for problem in problems:
        result.add(problem)
    return result


def test_advice_follows_the_failure_and_the_hint_is_for_the_check_itself():
    lab2 = find_lab(2)
    stage = lab2.stages[0]
    assert advice_for(lab2, stage, _failed(Problem("expected one ## lambda_handler"))).text == stage.hint
    facade = _failed(Problem("it ended FAILED: FacadeSegmentMutationException: FacadeSegments cannot be mutated", "in-process"))
    assert advice_for(lab2, stage, facade).kind == "pitfall"
    assert "already" not in stage.hint and "facade-segment pitfall" in advice_for(lab2, stage, facade).text
    both = _failed(Problem("does not import: SyntaxError", kind="import"), Problem("FacadeSegment", kind="check"))
    assert advice_for(lab2, stage, both).kind == "import"  # nothing else can be true of a file that does not import
    assert advice_for(lab2, stage, _failed(Problem("did not return", kind="stuck"))).kind == "stuck"
    assert advice_for(lab2, stage, _failed(Problem("no stack", kind="setup"))).kind == "setup"
    ended = advice_for(lab2, stage, _failed(Problem("saw none", kind="execution", execution="FAILED (ValueError: x)")))
    assert ended.kind == "execution" and "FAILED (ValueError: x)" in ended.text and stage.hint in ended.text


# ------------------------------------------------------------------ progress
@pytest.fixture
def config(tmp_path, monkeypatch) -> StackConfig:
    monkeypatch.delenv(progress.PATH_ENV, raising=False)
    return StackConfig(state_dir=tmp_path)


def test_progress_keeps_the_best_per_stage_and_the_last_run(config):
    progress.record_run(config, 1, {1: True, 2: True, 3: True})
    progress.record_run(config, 1, {1: True, 2: False, 3: False}, {"stage": 2, "title": "hint", "text": "t", "kind": "hint"})
    lab1 = progress.lab_progress(1, config)
    assert [s.best for s in lab1.stages] == [True, True, True] and [s.last for s in lab1.stages] == [True, False, False]
    assert lab1.done and lab1.runs == 2 and lab1.last_advice["stage"] == 2
    labs = progress.read_progress(config)
    assert progress.next_lab(labs).number == 2 and progress.next_command(labs).startswith("make lab-2 ")
    assert progress.current_lab(labs).number == 2  # the lab run last is done: the next one


def test_the_lab_run_last_is_the_current_one_until_it_is_done(config):
    progress.record_run(config, 3, {1: False, 2: False, 3: False})
    assert progress.current_lab(progress.read_progress(config)).number == 3
    assert progress.next_lab(progress.read_progress(config)).number == 1


def test_a_progress_file_from_before_best_or_broken_is_still_read(config):
    path = progress.progress_path(config)
    path.write_text(json.dumps({"1": {"when": "2026-01-01 10:00", "stages": {"1": True, "2": False, "3": False}}}))
    lab1 = progress.read_progress(config)[0]
    assert [s.best for s in lab1.stages] == [True, False, False] and lab1.runs == 1 and not lab1.done
    path.write_text("{not json")
    assert all(lab.last_run is None for lab in progress.read_progress(config))


def test_the_progress_file_is_opened_only_by_progress_py():
    """One owner: every other module goes through read_progress / record_run."""
    offenders = [
        str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / "workshop").rglob("*.py")
        if path.name != "progress.py" and "lab-progress.json" in path.read_text(encoding="utf-8")
    ]  # fmt: skip
    assert offenders == []


# ------------------------------------------------------------------ preflight
def test_preflight_names_a_syntax_error_without_a_subprocess_and_an_import_error_with_its_line(tmp_path):
    from workshop.labs.preflight import check

    broken = tmp_path / "handler.py"
    broken.write_text("x = 1\ndef lambda_handler(event, context:\n")
    problem = check(broken, {})
    assert (problem.kind, problem.line) == ("SyntaxError", 2)
    broken.write_text("import json\nfrom order_saga import no_such_name\n")
    problem = check(broken, {})
    assert (problem.kind, problem.line, problem.code) == ("ImportError", 2, "from order_saga import no_such_name")
    assert check(tmp_path / "gone.py", {}).kind == "FileNotFoundError"
    broken.write_text("def lambda_handler(event, context):\n    return {}\n")
    assert check(broken, {}) is None


# ------------------------------------------------------------------ what the learner reads
def test_lab_2_and_5_readmes_name_no_fixed_port():
    for folder in ("lab-2-tracer", "lab-5-parser"):
        text = (REPO_ROOT / "workshop" / folder / "README.md").read_text()
        assert not re.search(r"127\.0\.0\.1:(2000|4566|9014|3001)\b", text), folder


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: f"lab-{lab.number}")
def test_each_starter_marks_each_readme_part_with_a_todo(lab):
    parts = [int(n) for n in re.findall(r"^## Part (\d+)", (lab.path / "README.md").read_text(), re.MULTILINE)]
    todos = [int(n) for n in re.findall(r"# TODO \(Part (\d+)\)", lab.handler_path("starter").read_text())]
    assert parts and sorted(todos) == parts, (parts, todos)  # each part once (in the file's order, not the README's)


def test_a_copied_command_carries_the_stack_settings_only_when_they_are_not_the_defaults(tmp_path):
    from workshop.labs.show import stack_command

    default = StackConfig(state_dir=REPO_ROOT / ".workshop", emulator_port=4566, runner_port=9014, host_port=3001, xray_port=2000)
    assert stack_command([".venv/bin/workshop", "logs", "x"], default) == ".venv/bin/workshop logs x"
    moved = StackConfig(state_dir=REPO_ROOT / ".workshop", emulator_port=4567, runner_port=9014, host_port=3001, xray_port=2000)
    assert stack_command([".venv/bin/workshop", "logs", "x"], moved) == "WORKSHOP_EMULATOR_PORT=4567 .venv/bin/workshop logs x"
