"""The first error of a live run, from recorded shapes: which error, which invocation, the learner's frames only.

The fixture is a real lab-3 run on the stack (a NameError inside the
reservation step, retried twice, then the execution failed), paths made
neutral; the other shapes are the log lines the SDK and Powertools print.
"""

from __future__ import annotations

import io
import json
from pathlib import Path, PurePath

from rich.console import Console

from workshop.labs.first_error import EXPECTED_ERRORS, RecordedError, FirstError, Frame, first_error, recorded_errors, segments, waiting_on
from workshop.labs.progress import lab_progress, record_run
from workshop.labs.verdict import FAILING_LINES, error_panel, show_stage_lines

FIXTURE = Path(__file__).parent / "fixtures" / "first_error" / "lab3_name_error_in_step.json"
HANDLER = PurePath("/labs/lab-3-metrics/handler.py")


def recorded() -> dict:
    return json.loads(FIXTURE.read_text())


def test_a_retried_step_reports_its_first_attempt_with_the_learners_line_only() -> None:
    data = recorded()
    first = first_error(data["history"], data["entries"], data["logs"], HANDLER)
    assert first is not None
    assert first.headline == "NameError: name 'metric' is not defined"
    assert (first.error.step, first.error.attempt, first.invocation) == ("reserve-inventory", 1, 1)
    assert first.line == Frame("/labs/lab-3-metrics/handler.py", 29, "count_order_placed", 'metric.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)')
    text = first.traceback_text()
    assert text.count("Traceback") == 1 and "site-packages" not in text and "order_saga" not in text, text


def test_the_errors_of_a_retried_step_are_recorded_before_the_execution_ends() -> None:
    """Only the first attempt's StepFailed has happened yet: it is already the error (no waiting for the back-offs)."""
    data = recorded()
    first_attempt = [e for e in data["history"] if e["EventId"] <= 4]  # started, failed (retry in 1 s), invocation completed
    errors = recorded_errors(first_attempt, data["entries"][:1])
    assert [(e.short_type, e.retry_in_s, e.request_id) for e in errors] == [("NameError", 1.0, data["entries"][0]["request_id"])]


def test_the_payloads_simulated_payment_failures_are_not_the_learners() -> None:
    event = {"EventType": "StepFailed", "EventId": 3, "Id": "p", "Name": "charge-payment", "EventTimestamp": 1.0,
             "StepFailedDetails": {"Error": {"Payload": {"ErrorType": "order_saga.errors.PaymentTransientError", "ErrorMessage": "try again"}},
                                   "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 1}}}  # fmt: skip
    assert "PaymentTransientError" in EXPECTED_ERRORS
    assert recorded_errors([event], []) == []


def test_a_step_that_failed_for_good_counts_only_when_the_execution_failed() -> None:
    """A saga catches a declined payment and compensates: a final StepFailed alone is no mistake."""
    failed = {"EventType": "StepFailed", "EventId": 2, "Id": "s", "Name": "check", "EventTimestamp": 1.0,
              "StepFailedDetails": {"Error": {"Payload": {"ErrorType": "ValueError", "ErrorMessage": "no"}}}}  # fmt: skip
    assert recorded_errors([failed], []) == []
    ended = {"EventType": "ExecutionFailed", "EventId": 3, "EventTimestamp": 2.0,
             "ExecutionFailedDetails": {"Error": {"Payload": {"ErrorType": "aws_durable_execution_sdk_python.exceptions.StepError", "ErrorMessage": "no"}}}}  # fmt: skip
    assert [e.short_type for e in recorded_errors([failed, ended], [])] == ["ValueError"]  # the step's, not the SDK's wrapper


WRAPPED = """❌ failed step for id: 1, name: post:r-1
Traceback (most recent call last):
  File "/venv/site-packages/aws_lambda_powertools/utilities/idempotency/base.py", line 198, in _get_remaining_time_in_millis
    return self.config.lambda_context.get_remaining_time_in_millis()
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
AttributeError: 'DurableContext' object has no attribute 'get_remaining_time_in_millis'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/repo/services/ingest/handler.py", line 80, in post
    return post_function(entry=entry)
  File "/venv/site-packages/aws_lambda_powertools/utilities/idempotency/base.py", line 176, in _process_idempotency
    raise IdempotencyPersistenceLayerError("Failed to save in progress record to idempotency store", exc) from exc
aws_lambda_powertools.utilities.idempotency.exceptions.IdempotencyPersistenceLayerError: Failed to save in progress record"""


def test_a_library_wrapping_the_learners_mistake_reports_the_cause() -> None:
    """Powertools re-raises the AttributeError as its own error; the learner needs the AttributeError."""
    history = [
        {"EventType": "StepFailed", "EventId": 2, "Id": "s", "Name": "post:r-1", "EventTimestamp": 1.0,
         "StepFailedDetails": {"Error": {"Payload": {"ErrorType": "aws_lambda_powertools.utilities.idempotency.exceptions.IdempotencyPersistenceLayerError",
                                                     "ErrorMessage": "Failed to save in progress record"}},
                               "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 1}}},
        {"EventType": "InvocationCompleted", "EventId": 3, "EventTimestamp": 1.1, "InvocationCompletedDetails": {"RequestId": "r1"}},
    ]  # fmt: skip
    entries = [{"request_id": "r1", "start": 0.5, "end": 1.05}]
    first = first_error(history, entries, {"r1": WRAPPED.splitlines()}, PurePath("/labs/lab-4-idempotency/handler.py"))
    assert first is not None
    assert first.headline == "AttributeError: 'DurableContext' object has no attribute 'get_remaining_time_in_millis'"
    assert first.frames == () and first.raised_in is not None and first.raised_in.line == 198
    assert "IdempotencyPersistenceLayerError" in first.where


def test_json_log_lines_carry_tracebacks_too() -> None:
    """Powertools Logger puts the traceback in "exception"; Lambda's error JSON in "stackTrace"."""
    powertools = json.dumps({"level": "ERROR", "message": "failed", "exception": 'Traceback (most recent call last):\n  File "/labs/lab-1-logger/handler.py", line 7, in h\n    x()\nValueError: bad'})
    lam = json.dumps({"errorType": "KeyError", "errorMessage": "'id'", "stackTrace": ['  File "/labs/lab-1-logger/handler.py", line 9, in lambda_handler\n    event["id"]\n']})
    found = segments([powertools, lam])
    assert [(s.exception, s.frames[-1].line) for s in found] == [("ValueError: bad", 7), ("KeyError: 'id'", 9)]


def test_an_execution_that_waits_forever_names_what_it_waits_on() -> None:
    history = [
        {"EventType": "ExecutionStarted", "EventId": 1, "EventTimestamp": 0.0, "Id": "e"},
        {"EventType": "CallbackStarted", "EventId": 2, "EventTimestamp": 1.0, "Id": "c", "Name": "approval", "CallbackStartedDetails": {"Timeout": 300}},
        {"EventType": "StepStarted", "EventId": 3, "EventTimestamp": 1.0, "Id": "s", "Name": "notify"},
        {"EventType": "StepSucceeded", "EventId": 4, "EventTimestamp": 1.0, "Id": "s", "Name": "notify"},
    ]
    assert waiting_on(history) == "callback `approval` (timeout 300 s): nobody answered it"


def test_a_not_checked_stage_keeps_its_previous_mark(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WORKSHOP_LAB_PROGRESS_FILE", str(tmp_path / "progress.json"))
    record_run(None, 3, {1: True, 2: False, 3: False})
    record_run(None, 3, {1: None, 2: None, 3: None}, {"stage": 2, "title": "your code raised NameError", "text": "…", "kind": "error"})
    mine = lab_progress(3)
    assert mine is not None
    assert [(s.best, s.last) for s in mine.stages] == [(True, True), (False, False), (False, False)]
    assert mine.last_advice and mine.last_advice["kind"] == "error"


def test_a_failing_verdict_fits_its_budget_at_80_columns() -> None:
    """The error panel and the stage lines of the longest recorded error, drawn at 80 columns."""
    data = recorded()
    first = first_error(data["history"], data["entries"], data["logs"], HANDLER)
    assert first is not None
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)
    console.print(error_panel(first, "workshop/lab-3-metrics/handler.py", "stage 2 (a title of sixty characters or so, as the labs have)", "x " * 150))
    long_title = "OrderPlaced counted once per execution, not once per invocation, and more words"
    show_stage_lines(console, [(1, long_title, None), (2, long_title, True), (3, long_title, False)], "Lab 3 stages")
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert sum(1 for line in lines if "stage" in line and ("·" in line or "✓" in line or "✗" in line)) == 3  # one line each
    assert len(lines) <= FAILING_LINES - 25  # room left for the header, the stack line and the replay


def test_an_unrecorded_step_error_still_names_type_and_step() -> None:
    """No log line read back (the stack lost it): the history's type and message, and no traceback invented."""
    first = FirstError(RecordedError("NameError", "name 'x' is not defined", 1.0, step="s", attempt=1), 1, (), None)
    assert first.headline == "NameError: name 'x' is not defined"
    assert "no frame of yours" in first.traceback_text()


def test_the_replay_is_one_line_per_invocation_woken_by_ran_suspended_on() -> None:
    """A recorded saga (a retried step, a callback, a wait): what `make lab-N` prints instead of the whole timeline."""
    from workshop.inspect.timeline import build_timeline
    from workshop.labs.verdict import replay_lines

    recorded = json.loads((FIXTURE.parent.parent / "timeline_saga.json").read_text())
    timeline = build_timeline(recorded["history"], recorded["invocations"], recorded["logs"], recorded["execution_arn"])
    lines = replay_lines(timeline)
    assert len(lines) == len(timeline.invocations) == 4
    assert lines[0] == "1  ⏰ start → ▶ reserve, charge ✗ → ⏸ retry of charge"
    assert lines[1].startswith("2  ⏰ retry of charge → ↺ 1, ▶ charge, approval +2 → ⏸ callback")
    assert lines[3] == "4  ⏰ cool-off done → ↺ 6, ▶ nothing new → ■ SUCCEEDED"


def test_a_replay_line_cut_to_its_width_keeps_what_woke_it_and_what_it_suspended_on() -> None:
    """At 80 columns a long line loses part of what ran, never the end: the suspension is the replay's story."""
    from workshop.inspect.timeline import build_timeline
    from rich.cells import cell_len

    from workshop.labs.verdict import replay_lines

    recorded = json.loads((FIXTURE.parent.parent / "timeline_saga.json").read_text())
    timeline = build_timeline(recorded["history"], recorded["invocations"], recorded["logs"], recorded["execution_arn"])
    whole = replay_lines(timeline)
    for width in (60, 70):
        for full, cut in zip(whole, replay_lines(timeline, width), strict=True):
            head, end = full[: full.index(" → ") + 3], full[full.rindex(" → "):]
            assert cut.endswith(end) and cut.startswith(head), (full, cut)
            assert cell_len(cut) <= max(width, cell_len(head) + cell_len(end) + 4), cut  # what ran gives way first


def test_the_durable_context_handed_to_powertools_points_at_the_learners_line(tmp_path: Path) -> None:
    """No frame of the learner's is in that traceback (Powertools calls the context later): the advice finds the line."""
    from workshop.labs.advice import culprit_line, error_advice
    from workshop.labs.model import find_lab

    handler = tmp_path / "lab-4-idempotency" / "handler.py"
    handler.parent.mkdir()
    handler.write_text("def lambda_handler(event, context):\n    idempotency.config.register_lambda_context(context)\n")
    first = FirstError(RecordedError("IdempotencyPersistenceLayerError", "Failed", 1.0, step="post:r-1", attempt=1), 1, (), None,
                       cause="AttributeError: 'DurableContext' object has no attribute 'get_remaining_time_in_millis'")  # fmt: skip
    assert culprit_line(first, handler) == "handler.py line 2: idempotency.config.register_lambda_context(context)"
    advice = error_advice(find_lab(4), first, handler)
    assert advice.kind == "error" and "context.lambda_context" in advice.text and "line 2" in advice.text, advice.text


def test_after_a_run_that_raised_a_stage_failing_only_with_it_is_not_checked() -> None:
    """Lab 5: stage 1 passes, stage 2 failed only because the run it read failed, stage 3 failed its own check."""
    from workshop.labs.checks import CheckRun, Problem, StageResult
    from workshop.labs.commands import _marks_after_an_error
    from workshop.labs.model import find_lab

    second, third = StageResult(2, True), StageResult(3, True)
    second.add(Problem("the run failed", kind="execution"))
    third.add(Problem("expected a batchItemFailures entry"))
    checks = CheckRun("learner", {1: StageResult(1, True), 2: second, 3: third}, 1.0, "")
    assert _marks_after_an_error(find_lab(5), checks) == {1: True, 2: None, 3: False}


def test_the_line_budget_counts_terminal_rows_a_long_line_folds_onto() -> None:
    """A link printed unwrapped (so a copy is one line) takes several rows at 80 columns: the budget counts them."""
    from workshop.labs.verdict import terminal_rows

    assert terminal_rows("short\n" + "x" * 80 + "\n", 80) == 2
    assert terminal_rows("x" * 81 + "\n", 80) == 2
    assert terminal_rows("\x1b[1m" + "x" * 80 + "\x1b[0m\n\n", 80) == 2  # colour codes take no column; a blank line, one row
    assert terminal_rows("é✓" * 40 + "\n", 80) == 1
