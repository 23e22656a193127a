"""`make lab-N` with a learner's mistake in a copy of a lab's solution: the first error is the verdict, within 30 s.

Each test changes one line of a solution (so it holds whatever the starters
become), runs `python -m workshop.labs run N` as make does, against the
private stack, with 30 s as the subprocess's deadline (lab_command fails the
test past it), and asserts: the real exception and the handler.py line are
named, at most one traceback is printed, and no deadline text. The old runner
waited out every retry's back-off, printed three tracebacks, and ended lab 4's
mistake with "did not finish" after 90 s.
"""

from __future__ import annotations

import re

from pathlib import Path

import pytest

from tests.integration.test_lab_recovery import assert_clean, lab_command, labs  # noqa: F401 - labs is a fixture
from workshop.config import StackConfig
from workshop.labs.verdict import FAILING_LINES, PASSING_LINES, terminal_rows

pytestmark = pytest.mark.live

DEADLINE_S = 30  # the limit for a learner's mistake, end to end
DEADLINE_TEXTS = ("did not finish", "did not end within", "deadline", "still RUNNING")


def learners_rows(output: str) -> int:
    """The rows at 80 columns a learner's run takes: less the settings this test's private stack puts before
    each command (its own ports and state folder; a learner's stack on the defaults prints none)."""
    return terminal_rows(re.sub(r"(?:WORKSHOP_[A-Z_]+=\S+ )+", "", output), 80)


def broken_copy(labs: Path, folder: str, old: str, new: str, also: tuple[str, str] | None = None) -> int:
    """The lab's solution with one line changed, as the learner's handler.py; the 1-based line changed."""
    solution = (labs / folder / "solution" / "handler.py").read_text()
    assert solution.count(old) == 1, f"{folder}'s solution no longer has {old!r}"
    text = solution.replace(old, new)
    if also:
        text = text.replace(*also)
    (labs / folder / "handler.py").write_text(text)
    first_line = new.strip().splitlines()[0]
    return next(n for n, line in enumerate(text.splitlines(), start=1) if first_line in line)


def assert_the_first_error(ran, exception: str, line: int | str) -> None:
    assert_clean(ran)
    assert ran.code == 1, ran.output[-3000:]
    assert exception in ran.text, ran.output[-3000:]
    assert f"handler.py line {line}" in ran.text, ran.output[-3000:]
    assert ran.output.count("Traceback") <= 1, ran.output
    assert not any(text in ran.output for text in DEADLINE_TEXTS), ran.output[-3000:]
    assert "not checked: the run failed first" in ran.text and "✗ stage" not in ran.output, ran.output[-3000:]  # none regressed


def test_a_name_error_in_a_retried_step_lab_3(labs: Path, live_stack: StackConfig) -> None:
    line = broken_copy(labs, "lab-3-metrics", '    metrics.add_metric(name="OrderPlaced"', '    metric.add_metric(name="OrderPlaced"')
    ran = lab_command(["run", "3"], labs, live_stack, deadline_s=DEADLINE_S, env={"COLUMNS": "80"})
    assert_the_first_error(ran, "NameError: name 'metric' is not defined", line)
    assert "attempt 1" in ran.text  # the first attempt's, not the last retry's
    assert learners_rows(ran.output) <= FAILING_LINES, ran.output
    hint = lab_command(["hint", "3"], labs, live_stack, deadline_s=DEADLINE_S)
    assert "NameError: name 'metric' is not defined" in hint.text and "handler.py line" in hint.text, hint.output  # the run's error first


def test_an_exception_in_the_handler_body_lab_1(labs: Path, live_stack: StackConfig) -> None:
    line = broken_copy(labs, "lab-1-logger", "    order = parse_order(event)\n", "    order = parse_order(evnt)\n")
    ran = lab_command(["run", "1"], labs, live_stack, deadline_s=DEADLINE_S)
    assert_the_first_error(ran, "NameError: name 'evnt' is not defined", line)


def test_a_step_result_that_cannot_be_checkpointed_lab_6(labs: Path, live_stack: StackConfig) -> None:
    line = broken_copy(
        labs, "lab-6-parameters",
        "    loaded = load_policy(context)  # checkpointed: the same value on every replay\n",
        '    loaded = context.step(lambda step: {"threshold": str(policy.threshold()), "waits": policy.wait_policy()}, name="load-policy")\n',
        also=("from approval_wait import ask as service_ask\n", "from approval_wait import ask as service_ask\nfrom approval_wait import policy\n"),
    )  # fmt: skip
    ran = lab_command(["run", "6"], labs, live_stack, deadline_s=DEADLINE_S)
    assert_the_first_error(ran, "SerDesError: Unsupported type", line)
    assert "to_dict()" in ran.text  # what to look at


def test_the_durable_context_passed_to_powertools_lab_4(labs: Path, live_stack: StackConfig) -> None:
    line = broken_copy(labs, "lab-4-idempotency", "register_lambda_context(context.lambda_context)", "register_lambda_context(context)")
    ran = lab_command(["run", "4"], labs, live_stack, deadline_s=DEADLINE_S)
    assert_the_first_error(ran, "AttributeError: 'DurableContext' object has no attribute 'get_remaining_time_in_millis'", line)
    assert "context.lambda_context" in ran.text
    hint = lab_command(["hint", "4"], labs, live_stack, deadline_s=DEADLINE_S)
    assert "'DurableContext' object has no attribute" in hint.text, hint.output


@pytest.mark.parametrize("number", [1, 3])
def test_a_passing_run_fits_40_lines_at_80_columns(labs: Path, live_stack: StackConfig, number: int) -> None:
    ran = lab_command(["run", str(number)], labs, live_stack, deadline_s=120, env={"COLUMNS": "80", "LAB_TARGET": "solution"})
    assert_clean(ran)
    assert ran.code == 0, ran.output[-3000:]
    assert learners_rows(ran.output) <= PASSING_LINES, f"{learners_rows(ran.output)} rows at 80 columns:\n{ran.output}"
    assert "/execution?arn=" in ran.output  # the explorer's grid of this execution
    assert "Traceback" not in ran.output


def test_an_execution_that_waits_forever_keeps_the_deadline_naming_what_it_waits_on(labs: Path, live_stack: StackConfig) -> None:
    """No error was raised: the deadline message stays, and says what the execution was suspended on."""
    broken_copy(
        labs, "lab-3-metrics", "    outcome = run_saga(context, order, on_reserved=count_order_placed)\n",
        '    context.wait(Duration.from_seconds(3600), name="an-hour")\n    outcome = run_saga(context, order, on_reserved=count_order_placed)\n',
        also=("from aws_lambda_powertools import Metrics\n", "from aws_durable_execution_sdk_python.config import Duration\nfrom aws_lambda_powertools import Metrics\n"),
    )  # fmt: skip
    ran = lab_command(["run", "3"], labs, live_stack, deadline_s=180)
    assert_clean(ran)
    assert ran.code == 1, ran.output[-3000:]
    assert "the live run did not finish" in ran.text and "waiting on wait `an-hour` (3600 s)" in ran.text, ran.output[-3000:]
    assert "your code raised" not in ran.text


@pytest.mark.parametrize(("number", "folder", "seen"), [
    (5, "lab-5-parser", "the batch is half-written"),
    (4, "lab-4-idempotency", "DurableExecutionArn, CheckpointToken"),
])
def test_a_starter_whose_run_fails_by_design_is_verdicted_by_its_stage(labs: Path, live_stack: StackConfig, number: int,
                                                                      folder: str, seen: str) -> None:  # fmt: skip
    """Labs 4 and 5: the starter fails the batch on a malformed body, by design (FAILING_RUN_IS_CHECKED), until a
    later stage. The first stage that fails its own check is the verdict (its expected/seen box and hint), the
    run's error one line under it: an error panel would send the learner to the line that raises, a later lesson."""
    (labs / folder / "handler.py").write_text((labs / folder / "starter" / "handler.py").read_text())
    ran = lab_command(["run", str(number)], labs, live_stack, deadline_s=DEADLINE_S, env={"COLUMNS": "80"})
    assert_clean(ran)
    assert ran.code == 1, ran.output[-3000:]
    assert "✗ stage 1" in ran.output and "stage 1: what was expected, what was seen" in ran.text, ran.output[-3000:]
    assert seen in ran.text, ran.output[-3000:]
    assert "The run itself failed at handler.py line" in ran.text and "your code raised an error" not in ran.text, ran.output[-3000:]
    assert "Traceback" not in ran.output and not any(text in ran.output for text in DEADLINE_TEXTS), ran.output[-3000:]
    assert learners_rows(ran.output) <= FAILING_LINES, ran.output