"""What a learner's mistakes do to the lab commands, each run as the learner runs it: a subprocess.

One test per row of the lab-recovery table (issue 13): an infinite loop in a
step, a handler that does not import, a deleted handler.py, Ctrl-C, LAB_TARGET,
lab 2's facade-segment pitfall, the expected/seen box, progress after more
runs, and the watch loop. Each asserts the exit code, the message, that no
traceback was printed, and that no process the command started is left
(the pids seen in its process tree while it ran, never a kill by name).

The lab commands run on a copy of the lab folders (WORKSHOP_LABS_DIR), so the
repository's workshop/lab-N/handler.py is never touched, and against the
private stack on free ports. WORKSHOP_LAB_STEP_TIMEOUT_S=3 gives the lab
functions a 3 s timeout (in-process and on the stack), so the infinite loop
is proven to end without waiting out the real 30 s.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.integration.polling import wait_for
from workshop import system
from workshop.config import REPO_ROOT, StackConfig, boto3_client, stack_env
from workshop.labs import manifest
from workshop.labs.progress import PATH_ENV

pytestmark = pytest.mark.live

STEP_S = 3
LOOP = '''
from __future__ import annotations
from typing import Any
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from order_saga import parse_order, run_saga


def reserve(step_context: Any) -> None:
    spins = 0
    while True:
        spins += 1


@durable_execution
def lambda_handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    order = parse_order(event)
    context.step(reserve, name="reserve-inventory")
    return run_saga(context, order).to_dict()
'''


@dataclass
class Ran:
    code: int
    output: str
    seconds: float
    pids: set[int] = field(default_factory=set)
    cmdlines: set[bytes] = field(default_factory=set)  # every command line the pids showed while it ran

    @property
    def text(self) -> str:
        """The output as words: Rich's boxes and line wrapping taken out, so a message is found whole."""
        return " ".join(re.sub(r"[│╭╮╰╯─┃━┏┓┗┛┡┩╇┳╋┻]", " ", self.output).split())


@pytest.fixture
def labs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of every lab folder (the commands under test break and delete handler.py there), and a progress file of its own."""
    copy = tmp_path / "labs"
    for entry in manifest.LABS:
        shutil.copytree(entry.path, copy / entry.folder, ignore=shutil.ignore_patterns("__pycache__", "handler.py.bak-*"))
    monkeypatch.setenv(PATH_ENV, str(tmp_path / "lab-progress.json"))  # this process's record_run, and the commands'
    return copy


def _as_from_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: SIGINT back to its default in the command.

    A shell without job control starts `cmd &` with SIGINT ignored, and an
    ignored signal stays ignored through exec, so under `nohup make repeat … &`
    the commands never saw the tests' Ctrl-C (Python installs its
    KeyboardInterrupt handler only when SIGINT starts at its default).
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def lab_command(args: list[str], labs: Path, config: StackConfig, deadline_s: float, env: dict[str, str] | None = None,
                interrupt_when: str | Callable[[str, set[bytes]], bool] | None = None,
                then: Callable[[subprocess.Popen, Path], None] | None = None) -> Ran:  # fmt: skip
    """`python -m workshop.labs ARGS` as make runs it; every pid of its tree recorded while it runs.

    interrupt_when: once the output holds this text (or the callable says so, given
    the output and the command lines seen), then(process, output file) runs (default:
    Ctrl-C, which a terminal sends to the whole process group).

    Every pid of the tree is read again at each look, not only when first seen: a
    child is first seen between fork and exec, still showing its parent's command
    line (the lab-2 Ctrl-C test once missed the checks' pytest that way, though its
    interrupt condition had seen it).
    """
    out = labs.parent / f"out-{time.monotonic_ns()}.txt"
    full_env = {**os.environ, **stack_env(config), "WORKSHOP_LABS_DIR": str(labs), "WORKSHOP_LAB_STEP_TIMEOUT_S": str(STEP_S), "COLUMNS": "160"}
    full_env.pop("LAB_TARGET", None)
    full_env.update(env or {})
    started = time.monotonic()
    with open(out, "w", encoding="utf-8") as sink:
        process = subprocess.Popen([sys.executable, "-m", "workshop.labs", *args], cwd=REPO_ROOT, env=full_env,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=_as_from_a_terminal)  # fmt: skip
    pids: set[int] = set()
    cmdlines: set[bytes] = set()
    seen = threading.Lock()  # the recorder adds while the interrupt condition reads

    done = threading.Event()

    def record() -> None:
        while not done.is_set():
            for pid in system.tree_pids(process.pid):
                try:
                    cmdline = " ".join(psutil.Process(pid).cmdline()).encode()
                except psutil.Error:
                    cmdline = None
                with seen:
                    pids.add(pid)
                    if cmdline is not None:
                        cmdlines.add(cmdline)
            time.sleep(0.05)

    def seen_cmdlines() -> set[bytes]:
        with seen:
            return set(cmdlines)

    watcher = threading.Thread(target=record, daemon=True)
    watcher.start()
    try:
        if interrupt_when is not None:
            ready = interrupt_when if callable(interrupt_when) else (lambda text, _cmdlines: interrupt_when in text)
            wait_for(lambda: ready(out.read_text(encoding="utf-8"), seen_cmdlines()) or process.poll() is not None, f"{interrupt_when!r}", deadline_s)
            assert process.poll() is None, "the command ended before it could be interrupted:\n" + out.read_text(encoding="utf-8")
            (then or (lambda proc, _out: os.killpg(proc.pid, signal.SIGINT)))(process, out)
        try:
            code = process.wait(timeout=max(1.0, started + deadline_s - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"`{' '.join(args)}` did not end within {deadline_s:.0f} s:\n{out.read_text(encoding='utf-8')[-3000:]}")
    finally:
        done.set()
        watcher.join()
    return Ran(code=code, output=out.read_text(encoding="utf-8"), seconds=time.monotonic() - started, pids=pids | {process.pid},
               cmdlines=seen_cmdlines())  # fmt: skip


def assert_clean(ran: Ran) -> None:
    """No traceback of the command's own, and no process of it left (its recorded pids, gone or reaped).

    A traceback the learner's handler logged is data the timeline shows, indented in its tree;
    one of the command itself starts a line.
    """
    assert not re.search(r"^Traceback \(most recent call last\)", ran.output, re.MULTILINE), ran.output[-4000:]

    def gone() -> bool:
        return not any(system.alive(pid) for pid in ran.pids)

    wait_for(gone, f"the processes of the command ({sorted(ran.pids)}) to end", 10)


def executions(config: StackConfig, function: str) -> dict[str, str]:
    lam = boto3_client("lambda", config)
    try:
        found = lam.list_durable_executions_by_function(FunctionName=function)["DurableExecutions"]
    except lam.exceptions.ResourceNotFoundException:
        return {}
    return {e["DurableExecutionArn"]: e["Status"] for e in found}


# ------------------------------------------------------------------ the table
def test_an_infinite_loop_in_a_step_ends_make_lab_within_its_deadline(labs: Path, live_stack: StackConfig) -> None:
    (labs / "lab-1-logger" / "handler.py").write_text(LOOP)
    ran = lab_command(["run", "1"], labs, live_stack, deadline_s=110)  # the limit: 2 min, with the real 30 s timeout
    assert_clean(ran)
    assert ran.code == 1, ran.output[-3000:]
    assert f"step `reserve-inventory` did not return within {STEP_S} s: `Sandbox.Timedout` in invocation" in ran.text, ran.output[-3000:]
    assert re.search(r"handler\.py line 1[01], in reserve", ran.text), ran.output[-3000:]  # in-process: the learner's line
    assert "a step that does not return" in ran.text  # the advice for that, not stage 1's hint
    assert "Give the Logger a service name" not in ran.text
    ended = executions(live_stack, "lab-1-logger")  # nothing left running on the stack either
    assert ended and "RUNNING" not in ended.values(), ended


def _break(handler: Path, how: str) -> int:
    """Break the starter one way; the 1-based line the error is on."""
    lines = handler.read_text().splitlines(keepends=True)
    if how == "syntax-error":
        at = next(i for i, line in enumerate(lines) if line.startswith("    order = parse_order(event)"))
        lines[at] = "    order = parse_order(event\n"
    else:
        at = next(i for i, line in enumerate(lines) if line.startswith("from order_saga import")) + 1
        lines.insert(at, "from order_saga import no_such_name\n")
    handler.write_text("".join(lines))
    return at + 1


@pytest.mark.parametrize("how, error", [("syntax-error", "SyntaxError"), ("missing-import", "ImportError")])
def test_a_handler_that_does_not_import_stops_the_live_run(labs: Path, live_stack: StackConfig, how: str, error: str) -> None:
    line = _break(labs / "lab-1-logger" / "handler.py", how)
    before = executions(live_stack, "lab-1-logger")
    ran = lab_command(["run", "1"], labs, live_stack, deadline_s=60)
    assert_clean(ran)
    assert ran.code == 1
    assert f"{error} at line {line}" in ran.text, ran.output[-3000:]
    assert "make lab-1-reset" in ran.text
    after = executions(live_stack, "lab-1-logger")
    # honest about the run: none for a file that does not compile, a stopped one when the import check answered later
    assert ("nothing was run" in ran.text) == (after == before) and ("its run was stopped" in ran.text) == (after != before), ran.output[-3000:]
    if how == "syntax-error":  # found by compiling, before anything starts
        assert after == before
    else:  # the import is checked beside the live run: the execution it started is stopped, not retried for 45 s
        started = [status for arn, status in after.items() if arn not in before]
        assert started in ([], ["STOPPED"]), after
    hint = lab_command(["hint", "1"], labs, live_stack, deadline_s=30)
    assert_clean(hint)
    assert f"{error} at line {line}" in hint.text and "Give the Logger a service name" not in hint.text, hint.output


def test_reset_and_solution_work_with_handler_py_deleted(labs: Path, live_stack: StackConfig) -> None:
    handler = labs / "lab-1-logger" / "handler.py"
    handler.unlink()
    solution = lab_command(["solution", "1"], labs, live_stack, deadline_s=30, env={"COLUMNS": "60"})
    assert_clean(solution)
    assert solution.code == 0 and "is missing" in solution.text, solution.output
    # wrapped, not cropped at 60 columns: the solution's longest lines arrive whole, across lines
    longest = max((labs / "lab-1-logger" / "solution" / "handler.py").read_text().splitlines(), key=len)
    assert len(longest) > 60 and "".join(longest.split()) in "".join(solution.output.split()), longest
    reset = lab_command(["reset", "1"], labs, live_stack, deadline_s=30)
    assert_clean(reset)
    assert reset.code == 0 and "was missing: restored the starter" in reset.text
    assert handler.read_text() == (labs / "lab-1-logger" / "starter" / "handler.py").read_text()


def _checks_running(text: str, cmdlines: set[bytes]) -> bool:
    """The live run started and the stage checks' pytest with it (lab 2 runs them beside the live run)."""
    return "as a real durable execution" in text and any(b"pytest" in cmdline for cmdline in cmdlines)


def test_ctrl_c_during_make_lab_2_is_one_line_and_130(labs: Path, live_stack: StackConfig) -> None:
    ran = lab_command(["run", "2"], labs, live_stack, deadline_s=90, interrupt_when=_checks_running)
    assert any(b"pytest" in cmdline for cmdline in ran.cmdlines), "the checks had not started: the test proves less than it says"
    assert_clean(ran)
    assert ran.code == 130, ran.output[-3000:]
    said = [line for line in ran.output.splitlines() if "interrupted" in line]
    assert said == ["interrupted (run): stopped; your handler.py and progress are as they were."], ran.output[-2000:]
    assert "KeyboardInterrupt" not in ran.text


def test_lab_target_solution_runs_the_solution_and_records_no_progress(labs: Path, live_stack: StackConfig, tmp_path: Path) -> None:
    ran = lab_command(["run", "1"], labs, live_stack, deadline_s=120, env={"LAB_TARGET": "solution"})
    assert_clean(ran)
    assert ran.code == 0, ran.output[-3000:]  # the learner's copy is the starter: it fails every stage
    assert "lab-1-logger/solution/handler.py" in ran.text and "All 3 stages of lab 1 pass" in ran.text
    assert not (tmp_path / "lab-progress.json").exists()


def test_lab_2_put_annotation_in_the_body_gets_the_pitfall_advice(labs: Path, live_stack: StackConfig) -> None:
    solution = (labs / "lab-2-tracer" / "solution" / "handler.py").read_text()
    pitfall = solution.replace("@annotate_execution\n", "").replace(
        "    order = parse_order(event)\n",
        "    order = parse_order(event)\n    tracer.put_annotation(key=\"execution_arn\", value=context.execution_context.durable_execution_arn)\n",
    )
    assert pitfall.count("tracer.put_annotation(") == 1 and "@annotate_execution\n@durable" not in pitfall
    (labs / "lab-2-tracer" / "handler.py").write_text(pitfall)
    ran = lab_command(["run", "2"], labs, live_stack, deadline_s=120)
    assert_clean(ran)
    assert ran.code == 1
    assert "facade-segment pitfall" in ran.text, ran.output[-4000:]
    assert "Move @tracer.capture_lambda_handler ABOVE" not in ran.text  # stage 1's hint: already done
    # the run raised: its first error is the verdict (issue 22), its stages are not checked rather than failed
    assert "FacadeSegmentMutationException" in ran.text and "not checked: the run failed first" in ran.text, ran.output[-4000:]


def test_progress_keeps_the_best_and_the_last_run_and_says_what_next(labs: Path, live_stack: StackConfig) -> None:
    from workshop.labs.progress import record_run

    record_run(live_stack, 1, {1: True, 2: True, 3: True})
    record_run(live_stack, 1, {1: False, 2: False, 3: False})  # experimenting after finishing lab 1
    ran = lab_command(["progress"], labs, live_stack, deadline_s=30)
    assert_clean(ran)
    assert ran.code == 0
    row = next(line for line in ran.output.splitlines() if "1 Logger" in line)
    assert "✓ ✓ ✓" in row and "✗ ✗ ✗" in row, ran.output
    assert "Next: make lab-2" in ran.text


def test_make_next_runs_the_first_lab_not_done(labs: Path, live_stack: StackConfig) -> None:
    from workshop.labs.progress import record_run

    record_run(live_stack, 1, {1: True, 2: True, 3: True})
    (labs / "lab-2-tracer" / "handler.py").write_text("def lambda_handler(event, context:\n")  # answered in a second
    ran = lab_command(["next"], labs, live_stack, deadline_s=60)
    assert_clean(ran)
    assert ran.code == 1 and "Lab 2 — Tracer" in ran.text and "SyntaxError at line 1" in ran.text, ran.output


def test_watch_runs_again_on_save_and_stops_on_ctrl_c(labs: Path, live_stack: StackConfig) -> None:
    handler = labs / "lab-1-logger" / "handler.py"
    handler.write_text("def lambda_handler(event, context:\n")

    def save_then_interrupt(process: subprocess.Popen, out: Path) -> None:
        handler.write_text("\n\ndef lambda_handler(event, context:\n")  # the error moves to line 3
        wait_for(lambda: "SyntaxError at line 3" in out.read_text(encoding="utf-8"), "the run after the save", 60)
        wait_for(lambda: out.read_text(encoding="utf-8").count("watching") >= 2, "watching again", 30)
        os.killpg(process.pid, signal.SIGINT)

    ran = lab_command(["watch", "1"], labs, live_stack, deadline_s=120, interrupt_when="watching", then=save_then_interrupt)
    assert_clean(ran)
    assert ran.code == 130, ran.output[-3000:]
    assert "SyntaxError at line 1" in ran.text and "SyntaxError at line 3" in ran.text
    assert [line for line in ran.output.splitlines() if "interrupted" in line] == [
        "interrupted (watch): stopped; your handler.py and progress are as they were."
    ]


def test_expected_seen_texts_are_whole_and_say_where_they_were_seen(live_stack: StackConfig) -> None:
    """Lab 6 stage 2's long texts arrive whole (JUnit's message attribute had cut them mid-word);
    stage 3 fails in-process and on the stack, and the box labels each."""
    from workshop.labs.checks import run_checks
    from workshop.labs.model import find_lab
    from workshop.labs.show import problem_box

    stages = run_checks(find_lab(6), "starter", live_stack).stages
    texts = stages[2].failures
    assert texts and not any(text.rstrip().endswith("...") for text in texts), texts
    assert any(text.endswith("every replay gets its checkpointed value") for text in texts), texts
    assert {problem.where for problem in stages[3].problems} == {"in-process", "on the stack"}, stages[3].problems
    box = problem_box(stages[3], limit=2)  # make lab-N shows the first; both are labelled
    assert box.startswith("[bold]in-process:[/] ") and "\n\n[bold]on the stack:[/] " in box, box
