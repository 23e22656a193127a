"""`make bench`'s pure parts: the figures of docs/benchmarks.json, their ratios and rounding, no stack."""

from __future__ import annotations

import json

import pytest

from workshop.tools.bench import Report, benchmarks_json, lab_shares, ratio
from workshop.tools.bench.labs import lab_phases

# The shape a script comparing two runs relies on: renaming a key breaks it.
FIGURE_KEYS = [
    "host_call_over_runner_call", "ingest_records_per_s", "ingest_live_over_inprocess", "saga_live_over_inprocess",
    "lab_run_warm_s", "lab_checks_s", "lab_live_execution_s", "lab_run_phases_s", "rss_idle_mb", "rss_after_mb", "rss_after_60s_mb", "stack_start_s",
    "demo_fresh_clone_s",
]  # fmt: skip
FACTS = {"CPU": "test cpu", "cores": "2", "RAM": "1.0 GiB", "OS": "Linux", "Python": "3.12.0", "date": "2026-01-01 00:00 UTC"}


def measured_report() -> Report:
    """A report as a --no-demo run fills it: every figure but the demo's."""
    report = Report()
    report.figure("host_call_over_runner_call", ratio(4.5, 1.5))
    report.figure("ingest_records_per_s", 1000 / 64.9)
    report.figure("ingest_live_over_inprocess", ratio(64.9, 15.2))
    report.figure("saga_live_over_inprocess", ratio(0.65, 0.22))
    for lab, (run_s, checks_s) in enumerate([(11.4123, 7.3), (12.0, 6.0)], start=1):
        report.figure("lab_run_warm_s", run_s, lab=lab)
        report.figure("lab_checks_s", checks_s, lab=lab)
    report.figure("rss_idle_mb", 182.04)
    report.figure("rss_after_mb", 1008.26)
    report.figure("rss_after_60s_mb", 410.0)
    report.figure("stack_start_s", 1.444)
    report.figure("demo_fresh_clone_s", None, "skipped (--no-demo)")
    return report


def test_the_json_has_the_fixed_shape_every_key_and_serialises() -> None:
    data = benchmarks_json(measured_report().figures, FACTS, "0123456789abcdef")

    assert list(data) == ["machine", "commit", "figures"]
    assert data["machine"] == FACTS and data["commit"] == "0123456789abcdef"
    assert list(data["figures"]) == FIGURE_KEYS
    assert json.loads(json.dumps(data)) == data


def test_ratios_are_the_figure_over_its_baseline_rounded() -> None:
    figures = benchmarks_json(measured_report().figures, FACTS, "abc")["figures"]

    assert figures["host_call_over_runner_call"] == 3.0  # 4.5 ms via the host ÷ 1.5 ms direct, not the inverse
    assert figures["ingest_live_over_inprocess"] == 4.27  # 64.9 s live ÷ 15.2 s in-process
    assert figures["saga_live_over_inprocess"] == 2.95
    assert figures["ingest_records_per_s"] == 15.4
    assert figures["rss_after_mb"] == 1008.3 and figures["stack_start_s"] == 1.44
    assert figures["lab_run_warm_s"] == {"1": 11.41, "2": 12.0}
    assert all(isinstance(v, float) for v in figures["lab_checks_s"].values())


def test_a_figure_not_measured_is_null_and_the_notes_say_why() -> None:
    report = measured_report()
    figures = benchmarks_json(report.figures, FACTS, "abc")["figures"]

    assert figures["demo_fresh_clone_s"] is None
    assert any("demo_fresh_clone_s" in note and "--no-demo" in note for note in report.notes)
    # a figure never recorded at all (a part of the bench that did not run) is null too, not missing
    assert benchmarks_json({}, FACTS, "abc")["figures"] == dict.fromkeys(FIGURE_KEYS)


def test_a_failed_lab_is_null_inside_its_per_lab_figure() -> None:
    report = Report()
    report.figure("lab_checks_s", 6.0, lab=1)
    report.figure("lab_checks_s", None, "the checks did not run: boom", lab=2)

    assert benchmarks_json(report.figures, FACTS, "abc")["figures"]["lab_checks_s"] == {"1": 6.0, "2": None}
    assert report.notes == ["lab_checks_s (lab 2) is null: the checks did not run: boom"]


def test_misnamed_or_misused_figures_are_refused() -> None:
    report = Report()
    with pytest.raises(KeyError):
        report.figure("host_over_runner", 1.0)  # a typo would otherwise be a silent null
    with pytest.raises(KeyError):
        report.figure("lab_checks_s", 1.0)  # per lab: needs the lab
    with pytest.raises(KeyError):
        report.figure("stack_start_s", 1.0, lab=1)
    with pytest.raises(KeyError):
        benchmarks_json({"stack_start": 1.0}, FACTS, "abc")


def test_ratio_without_a_baseline_is_none() -> None:
    assert ratio(3.0, 1.5) == 2.0
    assert ratio(3.0, 0.0) is None


def test_lab_shares_split_the_total_and_start_up_is_the_rest() -> None:
    shares = lab_shares(10.0, {"stack": 0.3, "live": 4.0, "checks": 5.0})

    assert shares == pytest.approx({"start-up": 0.1, "live run": 0.4, "checks": 0.5})
    assert sum(shares.values()) == pytest.approx(1.0)


def test_the_hand_written_profile_section_survives_a_rewrite():
    from workshop.tools.bench import PROFILE_HEADING, kept_profile

    page = f"# Benchmarks\n\n## Latest run\n\n| a | b |\n\n{PROFILE_HEADING}\n\nfigures from py-spy\n"
    assert kept_profile(page) == f"\n{PROFILE_HEADING}\n\nfigures from py-spy\n"
    assert kept_profile("# Benchmarks\n\n## Latest run\n") == ""


def test_lab_phases_in_seconds_are_written_per_lab_and_rounded() -> None:
    phases = lab_phases(3.0, {"stack": 0.41234, "live": 1.5, "checks": 0.25})
    assert phases == pytest.approx({"start-up": 1.25, "live run": 1.5, "checks": 0.25})
    report = Report()
    report.figure("lab_run_phases_s", {**phases, "stack": 0.41234}, lab=1)
    report.figure("lab_live_execution_s", 1.23456, lab=1)

    figures = benchmarks_json(report.figures, FACTS, "abc")["figures"]
    assert figures["lab_run_phases_s"] == {"1": {"start-up": 1.25, "live run": 1.5, "checks": 0.25, "stack": 0.41}}
    assert figures["lab_live_execution_s"] == {"1": 1.23}
