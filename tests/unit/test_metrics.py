"""EMF parsing and per-invocation aggregation (workshop.metrics) and `workshop metrics` without a stack.

The EMF lines are produced by a real Powertools Metrics instance (flushed
in-process, stdout captured), and framed the way the function host frames an
invocation's output, so the tests follow the real formats.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from workshop.inspect import metrics as wm
from workshop.cli import main
from workshop.inspect import Services
from workshop.config import StackConfig
from workshop.host.logsink import framed_lines
from workshop.host.pool import InvocationOutcome
from workshop.stack.processes import free_port
from workshop.inspect.loglines import split_by_request

SERVICE = {"service": "order-saga"}


def powertools_emf(add: Callable[[Metrics], None], **options: Any) -> list[str]:
    """The lines a Powertools Metrics flush prints after `add(metrics)`."""
    metrics = Metrics(namespace="Workshop", service="order-saga", **options)
    metrics.clear_metrics()  # the metric set is shared by every instance: start empty
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        add(metrics)
        metrics.flush_metrics()
    return buffer.getvalue().splitlines()


def placed(metrics: Metrics) -> None:
    metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)


def completed(metrics: Metrics) -> None:
    metrics.add_metric(name="OrderCompleted", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="order_id", value="o-1")


def framed(request_id: str, lines: list[str]) -> list[str]:
    """One invocation's output as the function host writes it to CloudWatch Logs."""
    outcome = InvocationOutcome(request_id=request_id, logs=list(lines), duration_ms=12.5, max_memory_mb=80)
    return framed_lines(outcome, "$LATEST", 256, None)


def stream(*invocations: tuple[str, list[str]]) -> list[str]:
    return [line for request_id, lines in invocations for line in framed(request_id, lines)]


LOGGER_LINE = json.dumps({"level": "INFO", "message": "Order received", "service": "order-saga", "order_id": "o-1"})


# ------------------------------------------------------------------ parsing
def test_a_powertools_flush_is_one_valid_record() -> None:
    lines = powertools_emf(completed)
    assert len(lines) == 1
    record = wm.parse_emf_line(lines[0])
    assert isinstance(record, wm.EmfRecord)
    assert record.points == [wm.MetricPoint("Workshop", "OrderCompleted", "Count", (("service", "order-saga"),), (1.0,))]
    assert record.metadata == {"order_id": "o-1"}
    assert isinstance(record.timestamp, int)


def test_a_metric_added_twice_is_a_list_of_values_and_several_data_points() -> None:
    def add(metrics: Metrics) -> None:
        metrics.add_metric(name="ItemsReserved", unit=MetricUnit.Count, value=2)
        metrics.add_metric(name="ItemsReserved", unit=MetricUnit.Count, value=3)

    (line,) = powertools_emf(add)
    assert json.loads(line)["ItemsReserved"] == [2.0, 3.0]
    report = wm.aggregate({"r-1": [line]})
    (series,) = report.series
    assert (series.sum, series.data_points, series.per_invocation) == (5.0, 2, {"r-1": [2.0, 3.0]})


def test_several_metrics_in_one_record_keep_their_own_units() -> None:
    def add(metrics: Metrics) -> None:
        metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="ReservationLatency", unit=MetricUnit.Milliseconds, value=42.5)
        metrics.add_metric(name="Fast", unit=MetricUnit.Count, value=1, resolution=1)  # high resolution

    records, problems = wm.parse_emf_lines(powertools_emf(add))
    assert problems == []
    (record,) = records
    assert {(p.name, p.unit, p.values) for p in record.points} == {
        ("OrderPlaced", "Count", (1.0,)),
        ("ReservationLatency", "Milliseconds", (42.5,)),
        ("Fast", "Count", (1.0,)),
    }


def test_every_dimension_set_is_its_own_series() -> None:
    def add(metrics: Metrics) -> None:
        metrics.add_dimension(name="channel", value="web")
        metrics.add_dimensions(region="eu-west-1")
        metrics.add_metric(name="OrderPlaced", unit=MetricUnit.Count, value=1)

    (line,) = powertools_emf(add)
    assert json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["channel", "service"], ["region"]]
    report = wm.aggregate({"r-1": [line]})
    assert [s.dimensions_text() for s in report.series] == ["channel=web, service=order-saga", "region=eu-west-1"]
    assert all(s.sum == 1 and s.data_points == 1 for s in report.series)
    assert report.find("OrderPlaced", "Workshop", region="eu-west-1")
    assert report.find("OrderPlaced", channel="web", service="order-saga")
    assert not report.find("OrderPlaced", service="order-saga")  # dimension values must match exactly


def test_more_than_100_metrics_flush_as_two_records() -> None:
    def add(metrics: Metrics) -> None:
        for number in range(101):
            metrics.add_metric(name=f"M{number}", unit=MetricUnit.Count, value=1)

    lines = powertools_emf(add)
    assert len(lines) == 2  # Powertools flushes by itself at 100 metrics
    report = wm.aggregate({"r-1": lines})
    assert len(report.series) == 101
    assert report.invocation("r-1").records == 2


def test_ordinary_log_lines_are_ignored() -> None:
    lines = [
        "replay-visible print demo",
        LOGGER_LINE,
        "{not json at all",
        "[1, 2, 3]",
        '{"level": "WARNING", "message": "no _aws here"}',
        "/site-packages/aws_lambda_powertools/metrics/provider/base.py:213: UserWarning: No application metrics to publish.",
    ]
    assert all(wm.parse_emf_line(line) is None for line in lines)
    assert wm.parse_emf_lines(lines) == ([], [])


def test_emf_without_dimensions_and_distribution_values() -> None:
    line = json.dumps(
        {
            "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "Workshop", "Metrics": [{"Name": "Latency", "Unit": "Seconds"}]}]},
            "Latency": {"Values": [0.5, 2.0], "Counts": [2, 1], "Sum": 3.0, "Count": 3, "Max": 2.0, "Min": 0.5},
        }
    )
    report = wm.aggregate({"r-1": [line]})
    (series,) = report.series
    assert series.dimensions == () and series.dimensions_text() == "(none)"
    assert (series.sum, series.data_points) == (3.0, 3)


def emf(**changes: Any) -> dict[str, Any]:
    """A valid Powertools-shaped document, changed."""
    document = json.loads(powertools_emf(placed)[0])
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("line", "kind", "reason"),
    [
        ('{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [', "parse", "not valid JSON"),
        (json.dumps({"level": "INFO", "message": emf()}), "parse", "_aws is not a top-level key"),
        ("metrics: " + json.dumps(emf()), "parse", "does not start the log event"),
        (json.dumps(emf(_aws="yes")), "validation", "_aws is not an object"),
        (json.dumps(emf(_aws={"CloudWatchMetrics": emf()["_aws"]["CloudWatchMetrics"]})), "validation", "Timestamp is missing"),
        (json.dumps(emf(_aws={"Timestamp": 1})), "validation", "CloudWatchMetrics is missing"),
        (json.dumps({k: v for k, v in emf().items() if k != "OrderPlaced"}), "validation", "'OrderPlaced' has no value"),
        (json.dumps({k: v for k, v in emf().items() if k != "service"}), "validation", "dimension 'service' has no value"),
        (json.dumps(emf(service=7)), "validation", "not a string"),
        (json.dumps(emf(OrderPlaced=["one"])), "validation", "not a number"),
        (json.dumps(emf(OrderPlaced=[])), "validation", "empty list"),
        (json.dumps(emf(OrderPlaced={"Values": [1, 2], "Counts": [1]})), "validation", "Counts that do not match"),
        (json.dumps(emf(OrderPlaced=True)), "validation", "not a number"),
        (json.dumps(emf(OrderPlaced=list(range(101)))), "validation", "101 values"),
        ('{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "W", "Dimensions": [], "Metrics": [{"Name": "X"}]}]}, "X": NaN}', "validation", "not finite"),
    ],
)
def test_a_line_claiming_emf_but_malformed_is_reported(line: str, kind: str, reason: str) -> None:
    problem = wm.parse_emf_line(line, "r-1")
    assert isinstance(problem, wm.EmfProblem), problem
    assert problem.kind == kind and reason in problem.reason
    assert problem.request_id == "r-1"


def test_unknown_unit_and_namespace_problems_reject_the_whole_record() -> None:
    document = emf()
    directive = document["_aws"]["CloudWatchMetrics"][0]
    directive["Metrics"][0]["Unit"] = "Counts"
    directive["Namespace"] = ""
    problem = wm.parse_emf_line(json.dumps(document))
    assert isinstance(problem, wm.EmfProblem)
    assert any("unknown unit 'Counts'" in r for r in problem.reasons)
    assert any("Namespace" in r for r in problem.reasons)
    directive["Metrics"][0]["Unit"] = ["Count"]  # not even a string: reported, not a crash
    assert "unknown unit ['Count']" in wm.parse_emf_line(json.dumps(document)).reason
    report = wm.aggregate({"r-1": [json.dumps(document), *powertools_emf(completed)]})
    assert [s.name for s in report.series] == ["OrderCompleted"]  # the valid record still counts
    assert len(report.problems) == 1 and report.invocation("r-1").problems == 1


def test_a_long_malformed_line_is_shortened_in_the_report() -> None:
    problem = wm.parse_emf_line('{"_aws": ' + "x" * 5000)
    assert isinstance(problem, wm.EmfProblem) and len(problem.text) <= 200


# --------------------------------------------------------------- aggregation
def saga_stream() -> list[str]:
    """The saga's pattern: OrderPlaced inside a step (invocation 1), OrderCompleted at the end (3)."""
    return stream(
        ("req-1", [LOGGER_LINE, *powertools_emf(placed)]),
        ("req-2", []),
        ("req-3", [*powertools_emf(completed), LOGGER_LINE]),
    )


def test_metrics_in_steps_or_after_the_last_suspension_count_once_per_execution() -> None:
    logs = split_by_request(saga_stream())
    entries = [{"request_id": r, "start": float(n), "execution_arn": "exec/1"} for n, r in enumerate(["req-1", "req-2", "req-3"])]
    report = wm.aggregate(logs, entries, scope="execution", target="exec/1")
    (order_placed,) = report.find("OrderPlaced", "Workshop", **SERVICE)
    (order_completed,) = report.find("OrderCompleted", "Workshop", **SERVICE)
    assert (order_placed.sum, order_placed.per_invocation) == (1.0, {"req-1": [1.0]})
    assert (order_completed.sum, order_completed.unit) == (1.0, "Count")
    assert [i.request_id for i in report.silent] == ["req-2"]
    assert [(i.number, i.records) for i in report.invocations] == [(1, 1), (2, 0), (3, 1)]


def test_a_metric_in_replayed_code_counts_once_per_invocation() -> None:
    logs = split_by_request(stream(*((f"req-{n}", powertools_emf(placed)) for n in range(1, 4))))
    report = wm.aggregate(logs)
    (series,) = report.series
    assert (series.sum, series.data_points) == (3.0, 3)
    assert series.sum_by_invocation() == {"req-1": 1.0, "req-2": 1.0, "req-3": 1.0}
    from workshop.cli.metrics import per_invocation_text

    assert per_invocation_text(series, report) == "1 per invocation × 3 invocations: #1, #2, #3"


def test_invocations_are_numbered_by_start_and_missing_logs_are_not_silence() -> None:
    logs = split_by_request(saga_stream())
    entries = [
        {"request_id": "req-3", "start": 30.0},
        {"request_id": "req-1", "start": 10.0},
        {"request_id": "req-lost", "start": 40.0},
        {"request_id": "req-2", "start": 20.0},
    ]
    report = wm.aggregate(logs, entries, scope="execution", target="exec/1")
    assert [i.request_id for i in report.invocations] == ["req-1", "req-2", "req-3", "req-lost"]
    lost = report.invocation("req-lost")
    assert not lost.has_logs and not lost.emitted_nothing
    assert [i.request_id for i in report.silent] == ["req-2"]
    assert any("req-lost" in note and "no log lines" in note for note in report.notes)


def test_report_to_dict_is_json() -> None:
    report = wm.aggregate(split_by_request(saga_stream()))
    data = json.loads(json.dumps(report.to_dict()))
    assert {s["name"]: s["sum"] for s in data["series"]} == {"OrderCompleted": 1.0, "OrderPlaced": 1.0}
    assert [i["emitted_nothing"] for i in data["invocations"]] == [False, True, False]


# ----------------------------------------------------------- the command


def _not_found(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}}, operation)


class FakePaginator:
    def __init__(self, pages: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> None:
        self.pages = pages

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return self.pages(kwargs)


class FakeLogs:
    """get_log_events and describe_log_streams over {group: {stream: [lines]}}."""

    def __init__(self, groups: dict[str, dict[str, list[str]]]) -> None:
        self.groups = groups

    def get_log_events(self, logGroupName: str, logStreamName: str, **kwargs: Any) -> dict[str, Any]:
        if logGroupName not in self.groups:
            raise _not_found("GetLogEvents")
        if kwargs.get("nextToken"):
            return {"events": [], "nextForwardToken": kwargs["nextToken"]}
        lines = self.groups[logGroupName].get(logStreamName, [])
        events = [{"timestamp": 1_000 + n, "message": line} for n, line in enumerate(lines)]
        return {"events": [e for e in events if e["timestamp"] >= kwargs.get("startTime", 0)], "nextForwardToken": "f/1"}

    def get_paginator(self, name: str) -> FakePaginator:
        assert name == "describe_log_streams"

        def pages(kwargs: dict[str, Any]) -> list[dict[str, Any]]:
            if kwargs["logGroupName"] not in self.groups:
                raise _not_found("DescribeLogStreams")
            return [{"logStreams": [{"logStreamName": s} for s in self.groups[kwargs["logGroupName"]]]}]

        return FakePaginator(pages)


class RecordedServices(Services):
    """A stack with one saga execution (3 invocations) in its index and logs."""

    ARN = "exec/saga-1"
    GROUP = "/aws/lambda/order-saga"

    def __init__(self, config: StackConfig) -> None:
        super().__init__(config=config, clients={"logs": FakeLogs({self.GROUP: {"2026/11/20/[$LATEST]abc": saga_stream()}})})
        self.index = [
            {"request_id": f"req-{n}", "function": "order-saga", "execution_arn": self.ARN, "start": float(n), "end": n + 0.5,
             "log_group": self.GROUP, "log_stream": "2026/11/20/[$LATEST]abc"}
            for n in (1, 2, 3)
        ]  # fmt: skip

    def invocations(self, execution_arn: str | None = None, function: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.index if execution_arn in (None, e["execution_arn"]) and function in (None, e["function"])]


@pytest.fixture
def services(tmp_path: Path) -> RecordedServices:
    registry = {"functions": {"order-saga": {"log_group": RecordedServices.GROUP, "durable": {}}, "payment": {}}}
    (tmp_path / "functions.json").write_text(json.dumps(registry), encoding="utf-8")
    return RecordedServices(StackConfig(state_dir=tmp_path, emulator_port=free_port(), runner_port=free_port(), host_port=free_port()))


def test_metrics_for_execution_reads_the_index_and_the_logs(services: RecordedServices) -> None:
    report = wm.metrics_for_execution(services.config, services.ARN, services=services)
    assert report.scope == "execution" and report.target == services.ARN
    assert [(s.name, s.sum) for s in report.series] == [("OrderCompleted", 1.0), ("OrderPlaced", 1.0)]
    assert [i.request_id for i in report.silent] == ["req-2"]
    assert report.problems == [] and report.notes == []


def test_metrics_for_function_reads_every_stream_and_finds_the_executions(services: RecordedServices) -> None:
    report = wm.metrics_for_function(services.config, "order-saga:live", services=services)
    assert report.target == "order-saga"
    assert [i.request_id for i in report.invocations] == ["req-1", "req-2", "req-3"]
    assert {i.execution_arn for i in report.invocations} == {services.ARN}
    assert report.find("OrderPlaced")[0].sum == 1.0


def test_metrics_for_function_since_leaves_out_invocations_cut_in_half(services: RecordedServices) -> None:
    # Fake timestamps are 1000 + line number: req-1 is lines 0-4 (START, log, EMF, END, REPORT).
    report = wm.metrics_for_function(services.config, "order-saga", since=1.002, services=services)
    assert [i.request_id for i in report.invocations] == ["req-2", "req-3"]
    assert any("START line was not read" in note for note in report.notes)


def test_metrics_command_table_and_silent_invocations(
    services: RecordedServices, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["metrics", "--execution", services.ARN], services=services) == 0
    out = capsys.readouterr().out
    for header in ("Namespace", "Metric", "Dimensions", "Unit", "Sum", "Data points", "Per invocation"):
        assert header in out
    assert "OrderPlaced" in out and "service=order-saga" in out and "1 in invocation #1 of 3" in out
    assert "#2 req-2  emitted nothing" in out
    assert "Emitted nothing: #2 (1 of 3 invocations)." in out


def test_metrics_command_json(services: RecordedServices, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "--execution", services.ARN, "--json"], services=services) == 0
    data = json.loads(capsys.readouterr().out)
    assert {s["name"]: s["per_invocation"] for s in data["series"]} == {"OrderCompleted": {"req-3": [1.0]}, "OrderPlaced": {"req-1": [1.0]}}


def test_metrics_command_over_the_registry_notes_functions_never_invoked(
    services: RecordedServices, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["metrics"], services=services) == 0
    captured = capsys.readouterr()
    assert "EMF metrics of function order-saga, payment" in captured.out
    assert "3 invocation(s) read (1 durable execution(s)); 1 emitted no EMF." in captured.out
    assert "1 in invocation #1 of 3 · 1 execution" in captured.out
    assert "No log group /aws/lambda/payment" in captured.err


def test_metrics_command_reports_invalid_emf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = RecordedServices(StackConfig(state_dir=tmp_path, emulator_port=free_port(), runner_port=free_port(), host_port=free_port()))
    services.clients["logs"] = FakeLogs({services.GROUP: {"2026/11/20/[$LATEST]abc": stream(("req-1", ['{"_aws": {"Timestamp": 1}}']))}})
    services.index = services.index[:1]
    assert main(["metrics", "--execution", services.ARN], services=services) == 0
    captured = capsys.readouterr()
    assert "No EMF metrics in the 1 invocation(s)" in captured.out
    assert "#1 req-1  1 invalid EMF line(s)" in captured.out
    assert "Invalid EMF in invocation #1 (req-1): _aws.CloudWatchMetrics is missing" in captured.err


@pytest.mark.parametrize("argv", [["metrics", "--execution", "x/y"], ["metrics", "--function", "order-saga"], ["metrics"]])
def test_stack_not_running(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    host, emulator = free_port(), free_port()
    monkeypatch.setenv("WORKSHOP_HOST_PORT", str(host))
    monkeypatch.setenv("WORKSHOP_EMULATOR_PORT", str(emulator))
    monkeypatch.setenv("WORKSHOP_STATE_DIR", str(tmp_path))
    (tmp_path / "functions.json").write_text(json.dumps({"functions": {"order-saga": {}}}), encoding="utf-8")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if "--execution" in argv:
        assert err.strip() == f"The local stack is not running at http://127.0.0.1:{host} — start it with `make up`"
    else:
        assert err.strip() == f"The AWS emulator of the local stack is not running at http://127.0.0.1:{emulator} — start it with `make up`"
