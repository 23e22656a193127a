"""build_timeline on executions recorded from a real local stack (fixtures/capture_timeline.py).

- timeline_demo.json: a step, a 1 s wait, a print after the wait (2 invocations)
- timeline_saga.json: a step, a step that fails once and is retried, a
  wait_for_callback answered from outside, a 1 s wait; Powertools JSON logs (4 invocations)
- timeline_crash.json: the first invocation exits the process after a step
  (Runtime.ExitError); the runner retries it; then a wait (3 invocations)
- timeline_saga_recorded.json: the saga's shape again (recorded_saga_handler.py),
  recorded after the host loaded the SDK's replay recorder into its workers: each
  index entry carries what the SDK said it replayed, ran and ended on. The
  three older fixtures predate it, as old index entries do.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from workshop.inspect.loglines import parse_log_line, split_by_request
from workshop.inspect.timeline import Timeline, build_timeline

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"timeline_{name}.json").read_text(encoding="utf-8"))


def timeline_of(recorded: dict[str, Any]) -> Timeline:
    return build_timeline(recorded["history"], recorded["invocations"], recorded["logs"], recorded["execution_arn"])


def names(ops) -> list[str | None]:
    return [op.name for op in ops]


# ------------------------------------------------------------------ demo
def test_demo_has_one_invocation_per_handler_run() -> None:
    recorded = load("demo")
    timeline = timeline_of(recorded)
    assert len(timeline.invocations) == 2
    assert [i.request_id for i in timeline.invocations] == [e["request_id"] for e in recorded["invocations"]]
    assert all(i.in_index and i.in_history for i in timeline.invocations)
    assert timeline.status == "SUCCEEDED"
    assert json.loads(timeline.result) == {"a": "one", "input": {"k": 1}}


def test_demo_step_of_invocation_1_is_replayed_in_invocation_2() -> None:
    first, second = timeline_of(load("demo")).invocations
    assert names(first.ran) == ["first", "pause"]
    assert first.ran[0].events == ["StepStarted", "StepSucceeded"]
    assert first.replayed == []
    assert "first" in names(second.replayed)
    assert "first" not in names(second.ran)
    assert second.ran == []


def test_demo_invocation_1_ended_on_the_wait_and_the_timer_resumed_it() -> None:
    first, second = timeline_of(load("demo")).invocations
    assert [(op.kind, op.name) for op in first.suspended_on] == [("Wait", "pause")]
    assert first.suspended_on[0].summary == "1 s"
    assert first.suspended_on[0].scheduled_end is not None
    assert first.ended_execution is None
    assert [(op.name, op.events) for op in second.resumed_by] == [("pause", ["WaitSucceeded"])]
    assert second.suspended_on == []
    assert second.ended_execution == "SUCCEEDED"


def test_demo_log_lines_belong_to_the_invocation_that_printed_them() -> None:
    first, second = timeline_of(load("demo")).invocations
    # The print comes after the wait: invocation 1 suspends before reaching it.
    assert first.has_logs and first.logs == []
    assert [line.text for line in second.logs] == ["replay-visible print demo"]
    # START/END/REPORT framing is not part of the handler's own lines, but REPORT gives the duration.
    assert second.duration_ms == pytest.approx(101.98)


def test_a_late_index_start_does_not_move_checkpoints_out_of_their_invocation() -> None:
    """The host stamps `start` after shipping logs, so it can come after the first checkpoint."""
    recorded = load("demo")
    late = copy.deepcopy(recorded)
    first_checkpoint = min(e["EventTimestamp"] for e in late["history"] if e["EventType"] == "StepStarted")
    late["invocations"][0]["start"] = first_checkpoint + 0.005
    first, _ = timeline_of(late).invocations
    assert names(first.ran) == ["first", "pause"]
    assert first.resumed_by == []


# ------------------------------------------------------------------ saga
def test_saga_retry_callback_and_wait() -> None:
    timeline = timeline_of(load("saga"))
    one, two, three, four = timeline.invocations
    assert timeline.status == "SUCCEEDED"

    # 1: reserve ran, charge failed on attempt 1 and is retried later: that is what it ended on.
    assert names(one.ran) == ["reserve", "charge"]
    assert one.ran[1].events == ["StepStarted", "StepFailed"]
    assert one.ran[1].attempt == 1
    assert [(op.kind, op.name, op.events[-1]) for op in one.suspended_on] == [("Step", "charge", "StepFailed")]
    assert "retry in 1 s" in one.suspended_on[0].summary
    assert "RuntimeError: card declined (transient)" in one.suspended_on[0].summary

    # 2: reserve is replayed; charge is not (it failed), it runs again as attempt 2.
    assert names(two.replayed) == ["reserve"]
    assert two.replayed[0].summary == '→ {"sku": "abc", "qty": 1}'  # the SDK's typed envelope, decoded
    assert names(two.ran) == ["charge", "approval", "approval create callback id", "approval submitter"]
    assert two.ran[0].attempt == 2
    (callback,) = two.suspended_on
    assert callback.kind == "Callback"
    callback_started = next(e for e in load("saga")["history"] if e["EventType"] == "CallbackStarted")
    assert callback.callback_id == callback_started["CallbackStartedDetails"]["CallbackId"]
    assert callback.depth == 1  # inside the wait_for_callback context

    # 3: woken by the callback answer; closes the context and starts the wait.
    assert [(op.name, op.events) for op in three.resumed_by] == [("approval create callback id", ["CallbackSucceeded"])]
    assert {"reserve", "charge", "approval create callback id", "approval submitter"} <= set(names(three.replayed))
    assert [(op.name, op.events) for op in three.ran] == [("approval", ["ContextSucceeded"]), ("cool-off", ["WaitStarted"])]
    assert [(op.kind, op.name) for op in three.suspended_on] == [("Wait", "cool-off")]

    # 4: everything replayed, nothing new, the execution ends.
    assert four.ran == [] and four.suspended_on == []
    assert four.ended_execution == "SUCCEEDED"
    assert {"reserve", "charge", "approval", "cool-off"} <= set(names(four.replayed))


def test_saga_logs_are_split_by_request_and_json_lines_are_parsed() -> None:
    one, two, three, four = timeline_of(load("saga")).invocations
    assert one.cold_start is True and one.init_ms is not None
    assert [i.cold_start for i in (two, three, four)] == [False, False, False]

    charging = [line for line in one.logs if line.message == "charging card"]
    assert len(charging) == 1
    assert charging[0].is_json and charging[0].level == "INFO"
    assert charging[0].fields["operationName"] == "charge"
    assert charging[0].fields["attempt"] == 1
    assert list(charging[0].fields)[:2] == ["operationName", "attempt"]
    assert "xray_trace_id" not in charging[0].fields and "executionArn" not in charging[0].fields

    assert [line.message for line in two.logs if line.is_json] == ["charging card", "approval requested"]
    # context.logger is silent while replaying and invocation 3 only replays and starts a wait.
    assert three.has_logs and three.logs == []
    assert [line.message if line.is_json else line.text for line in four.logs] == ["saga finished", "plain print at the end"]


# ----------------------------------------------------------------- crash
def test_crashed_invocation_is_shown_with_its_error_and_a_note() -> None:
    timeline = timeline_of(load("crash"))
    one, two, three = timeline.invocations
    assert one.error_type == "Runtime.ExitError"
    assert one.in_index and not one.in_history  # the runner recorded no InvocationCompleted for it
    assert names(one.ran) == ["before"]
    assert any(line.level == "ERROR" and "Runtime.ExitError" in (line.message or "") for line in one.logs)
    assert any("Invocation 1" in note and "InvocationCompleted" in note for note in timeline.notes)
    assert names(two.replayed) == ["before"]
    assert names(two.ran) == ["w"] and two.in_history
    assert three.ended_execution == "SUCCEEDED"


# ------------------------------------------------- partial data, honestly
def test_without_the_invocation_index_invocations_come_from_the_history() -> None:
    recorded = load("demo")
    timeline = build_timeline(recorded["history"], [], {})
    assert len(timeline.invocations) == 2
    assert all(i.request_id is None and i.in_history and not i.in_index for i in timeline.invocations)
    assert all(i.cold_start is None for i in timeline.invocations)
    assert names(timeline.invocations[0].ran) == ["first", "pause"]
    assert "first" in names(timeline.invocations[1].replayed)
    assert sum("not in the function host's index" in note for note in timeline.notes) == 2


def test_running_execution_shows_the_invocation_in_progress_and_what_is_pending() -> None:
    recorded = load("demo")
    # Up to the WaitStarted: checkpoints seen, invocation not finished, nothing indexed yet.
    history = [e for e in recorded["history"] if e["EventId"] <= 4]
    timeline = build_timeline(history, [], {})
    assert timeline.status == "RUNNING"
    (running,) = timeline.invocations
    assert running.in_progress
    assert names(running.ran) == ["first", "pause"]
    assert [(op.kind, op.name) for op in timeline.pending] == [("Wait", "pause")]


def test_a_step_waiting_for_its_retry_is_pending() -> None:
    recorded = load("saga")
    # Up to the end of invocation 1: charge failed, its next attempt has not started yet.
    history = [e for e in recorded["history"] if e["EventId"] <= 6]
    timeline = build_timeline(history, recorded["invocations"][:1], recorded["logs"])
    assert timeline.status == "RUNNING"
    assert [(op.kind, op.name, op.events) for op in timeline.pending] == [("Step", "charge", ["StepFailed"])]
    assert names(timeline.invocations[0].suspended_on) == ["charge"]


def test_timeline_is_json_serialisable() -> None:
    data = json.loads(json.dumps(timeline_of(load("saga")).to_dict()))
    assert [len(i["ran"]) for i in data["invocations"]] == [2, 4, 2, 0]


# ----------------------------------------------------------- log helpers
def test_split_by_request_keeps_interleaved_invocations_apart() -> None:
    lines = [
        "START RequestId: a Version: $LATEST",
        "hello from a",
        "END RequestId: a",
        "REPORT RequestId: a\tDuration: 1.50 ms\tBilled Duration: 2 ms",
        "START RequestId: b Version: $LATEST",
        '{"level":"INFO","message":"from b"}',
        "END RequestId: b",
        "REPORT RequestId: b\tDuration: 3.00 ms\tBilled Duration: 3 ms\tInit Duration: 200.00 ms",
    ]
    parts = split_by_request(lines)
    assert list(parts) == ["a", "b"]
    assert parts["a"][1:2] == ["hello from a"]
    assert parts["b"][1] == '{"level":"INFO","message":"from b"}'


def test_report_duration_is_not_the_billed_duration() -> None:
    recorded = load("demo")
    entry = dict(recorded["invocations"][0], init_ms=None)
    rid = entry["request_id"]
    logs = {rid: [f"START RequestId: {rid} Version: $LATEST", f"END RequestId: {rid}", f"REPORT RequestId: {rid}\tDuration: 10.25 ms\tBilled Duration: 11 ms\tMemory Size: 128 MB\tInit Duration: 99.50 ms"]}
    first = build_timeline(recorded["history"], [entry], logs).invocations[0]
    assert first.duration_ms == pytest.approx(10.25)
    assert first.init_ms == pytest.approx(99.5) and first.cold_start is True


def test_parse_log_line() -> None:
    plain = parse_log_line("just text {not json")
    assert not plain.is_json and plain.text == "just text {not json"
    error = parse_log_line('{"errorType": "Runtime.ExitError", "errorMessage": "exit status 3"}')
    assert error.level == "ERROR" and error.message == "Runtime.ExitError: exit status 3" and error.fields == {}
    custom = parse_log_line('{"level":"WARNING","message":"low stock","service":"x","sku":"abc","operationName":"reserve"}')
    assert (custom.level, custom.message) == ("WARNING", "low stock")
    assert custom.fields == {"operationName": "reserve", "sku": "abc"}


def test_an_operation_the_service_closed_after_the_last_checkpoint_is_still_what_it_suspended_on() -> None:
    """A quick chained invoke can finish before the invocation returns; the invocation still suspended on it."""
    recorded = copy.deepcopy(load("demo"))
    history = [e for e in recorded["history"] if e["EventId"] <= 4]
    fired = dict(next(e for e in recorded["history"] if e["EventType"] == "WaitSucceeded"), EventId=5)
    fired["EventTimestamp"] = recorded["invocations"][0]["end"] - 0.01  # while invocation 1 was still returning
    timeline = build_timeline([*history, fired], recorded["invocations"][:1], recorded["logs"])
    (first,) = timeline.invocations
    assert [(op.name, op.events) for op in first.arrived_during] == [("pause", ["WaitSucceeded"])]
    assert names(first.suspended_on) == ["pause"]
    assert timeline.pending == []  # by now the history has it closed


# ----------------------------------------------------- step retry details
def test_a_step_success_with_aws_retry_details_is_final() -> None:
    """AWS (and the runner since the fidelity work) writes RetryDetails.CurrentAttempt on every StepSucceeded."""
    recorded = copy.deepcopy(load("demo"))
    for event in recorded["history"]:
        if event["EventType"] == "StepSucceeded":
            event["StepSucceededDetails"]["RetryDetails"] = {"CurrentAttempt": 1}
    first, second = timeline_of(recorded).invocations
    assert names(second.replayed) == ["first", "pause"]
    assert first.suspended_on[0].name == "pause" and len(first.suspended_on) == 1


def test_a_polling_success_with_a_next_attempt_is_still_open() -> None:
    """wait_for_condition checkpoints each poll as a StepSucceeded with a next-attempt delay."""
    recorded = copy.deepcopy(load("demo"))
    history = [e for e in recorded["history"] if e["EventId"] <= 3]
    succeeded = next(e for e in history if e["EventType"] == "StepSucceeded")
    succeeded["StepSucceededDetails"]["RetryDetails"] = {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 5}
    timeline = build_timeline(history, [], {})
    assert [(op.name, op.events) for op in timeline.pending] == [("first", ["StepSucceeded"])]


# ------------------------------------------- the SDK's replay recorder
def recorded_saga() -> dict[str, Any]:
    return copy.deepcopy(load("saga_recorded"))


def record(recorded: dict[str, Any], number: int) -> dict[str, Any]:
    """Invocation `number`'s record (1-based, in the order they ran)."""
    return sorted(recorded["invocations"], key=lambda e: e["start"])[number - 1]["replay"]


def op_record(recorded: dict[str, Any], number: int, name: str) -> dict[str, Any]:
    return next(op for op in record(recorded, number)["operations"] if op["name"] == name)


def every_op(inv):
    return [*inv.replayed, *inv.ran, *inv.suspended_on]


def test_older_fixtures_have_no_records_and_say_so() -> None:
    for name in ("demo", "saga", "crash"):
        for inv in timeline_of(load(name)).invocations:
            assert inv.replay_source == "history" and inv.ended_as is None
            assert all(op.confirmed is None and op.disagreement is None for op in every_op(inv))


def test_recorded_saga_every_section_is_confirmed_by_the_sdk() -> None:
    timeline = timeline_of(recorded_saga())
    assert [i.replay_source for i in timeline.invocations] == ["recorder"] * 4
    assert [i.ended_as for i in timeline.invocations] == ["PENDING", "PENDING", "PENDING", "SUCCEEDED"]
    assert all(op.confirmed is True for inv in timeline.invocations for op in every_op(inv))
    assert timeline.notes == []
    one, two, three, four = timeline.invocations
    assert names(one.ran) == ["reserve", "charge"] and names(one.suspended_on) == ["charge"]
    assert names(two.replayed) == ["reserve"]
    assert names(two.ran) == ["charge", "approval", "approval create callback id", "approval submitter"]
    assert two.ran[0].attempt == 2 == op_record(recorded_saga(), 2, "charge")["attempt"]
    assert names(three.ran) == ["approval", "cool-off"] and names(three.suspended_on) == ["cool-off"]
    assert four.ran == [] and four.ended_execution == "SUCCEEDED"


def test_the_recorder_says_reserve_was_replayed_in_invocation_2_not_run() -> None:
    recorded = recorded_saga()
    reserve = op_record(recorded, 2, "reserve")
    assert (reserve["is_replayed"], reserve["ran"], reserve["status_at_start"]) == (True, False, "SUCCEEDED")
    # the SDK's own view agrees: reserve's function logged once, in invocation 1
    two = timeline_of(recorded).invocations[1]
    reserving = [(inv.number, line.message) for inv in timeline_of(recorded).invocations for line in inv.logs if line.message == "reserving"]
    assert reserving == [(1, "reserving")]
    assert [op.confirmed for op in two.replayed] == [True]


def test_where_the_recorder_disagrees_the_history_wins_and_says_so() -> None:
    recorded = recorded_saga()
    op_record(recorded, 2, "reserve")["ran"] = True  # the recorder claims reserve ran again
    timeline = timeline_of(recorded)
    two = timeline.invocations[1]
    assert names(two.replayed) == ["reserve"] and "reserve" not in names(two.ran)  # the history's view
    (reserve,) = two.replayed
    assert reserve.confirmed is False
    assert reserve.disagreement == "history: replayed; SDK recorder: ran"
    assert timeline.notes == [
        "Invocation 2: reserve — the history says replayed, the SDK's recorder says ran; shown as the history has it."
    ]
    assert all(op.confirmed for op in two.ran)  # the rest still agrees
    assert json.loads(json.dumps(timeline.to_dict()))["invocations"][1]["replayed"][0]["disagreement"] == reserve.disagreement


def test_an_operation_only_the_recorder_places_is_left_out_with_a_note() -> None:
    recorded = recorded_saga()
    charge_id = op_record(recorded, 3, "charge")["id"]
    record(recorded, 3)["suspended_on"].append(charge_id)
    timeline = timeline_of(recorded)
    three = timeline.invocations[2]
    assert names(three.suspended_on) == ["cool-off"]
    # Its place among the replayed is still confirmed; the claim the history does not back is a note.
    charge = next(op for op in three.replayed if op.name == "charge")
    assert (charge.confirmed, charge.disagreement) == (True, None)
    assert timeline.notes == [
        "Invocation 3: charge — the history says replayed, the SDK's recorder says replayed, suspended on;"
        " shown as the history has it."
    ]


def test_a_different_attempt_is_a_disagreement() -> None:
    recorded = recorded_saga()
    op_record(recorded, 2, "charge")["attempt"] = 3
    timeline = timeline_of(recorded)
    charge = timeline.invocations[1].ran[0]
    assert (charge.name, charge.confirmed) == ("charge", False)
    assert charge.disagreement == "the history says attempt 2, the SDK's recorder says attempt 3"
    assert len(timeline.notes) == 1 and "attempt 3" in timeline.notes[0]


def test_beyond_the_recorders_bound_operations_are_unchecked_not_contradicted() -> None:
    recorded = recorded_saga()
    last = record(recorded, 4)
    last["operations"] = [op for op in last["operations"] if op["name"] != "reserve"]
    last["omitted"] = 1
    timeline = timeline_of(recorded)
    four = timeline.invocations[3]
    assert [(op.name, op.confirmed) for op in four.replayed if op.name == "reserve"] == [("reserve", None)]
    assert all(op.confirmed for op in four.replayed if op.name != "reserve")
    assert timeline.notes == ["Invocation 4: the SDK's recorder kept only some operations; the others are as the history has them."]


def test_without_records_the_same_execution_is_inferred_from_the_history() -> None:
    with_records = timeline_of(recorded_saga())
    stripped = recorded_saga()
    for entry in stripped["invocations"]:
        del entry["replay"]
    stripped["invocations"][0]["replay"] = {"version": 99}  # a record this reader does not know: ignored
    without = timeline_of(stripped)
    for a, b in zip(with_records.invocations, without.invocations, strict=True):
        assert [names(getattr(a, s)) for s in ("replayed", "ran", "suspended_on")] == [
            names(getattr(b, s)) for s in ("replayed", "ran", "suspended_on")
        ]
        assert b.replay_source == "history" and b.ended_as is None
        assert all(op.confirmed is None for op in every_op(b))
