"""The X-Ray sink, the function host's segment and `workshop traces`, without the stack.

The sink runs in-process on ports the OS picks (stopped by its handle), and
once as `python -m workshop.stack.xray_sink` (stopped by its pid with SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration import polling

from workshop import capped_files, stack
from workshop.stack import processes
from workshop.stack.ports import free_port
from workshop.cli import main
from workshop.inspect import Services
from workshop.config import REPO_ROOT, StackConfig
from workshop.host.tracing import emit_function_segment, function_segment, trace_header
from workshop.inspect.traces import build_traces, group_traces
from workshop.stack.xray_sink import MalformedDatagram, SegmentStore, XRaySink, parse_datagram

HEADER = b'{"format": "json", "version": 1}\n'
E1 = "exec-1/aaaa"
E2 = "exec-2/bbbb"
DEADLINE_S = 10.0


def datagram(document: dict[str, Any]) -> bytes:
    return HEADER + json.dumps(document).encode()


def poll(predicate: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """The live tests' deadline wait (tests/integration/polling.py), polled every 0.02 s."""
    return polling.wait_for(predicate, what, deadline_s, interval=0.02)


def saga_trace(trace_id: str, segment_id: str, execution: str, request_id: str, start: float) -> list[dict[str, Any]]:
    """What one invocation of the saga sends: the host's segment and Powertools' subsegments."""
    fn = function_segment(
        function="order-saga",
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:order-saga",
        request_id=request_id,
        root=trace_id,
        parent=segment_id,
        start=start,
        end=start + 0.3,
        execution_arn=execution,
        result={"Status": "PENDING"},
    )
    sub = {"trace_id": trace_id, "type": "subsegment", "parent_id": segment_id}
    return [
        fn,
        {**sub, "id": segment_id[:-1] + "a", "name": "## lambda_handler", "start_time": start + 0.001, "end_time": start + 0.29,
         "annotations": {"execution_arn": execution, "ColdStart": True}},
        {**sub, "id": segment_id[:-1] + "b", "name": "## order_saga.inventory.reserve_items", "start_time": start + 0.05,
         "end_time": start + 0.09, "subsegments": [
             {"id": segment_id[:-1] + "c", "name": "dynamodb", "start_time": start + 0.06, "end_time": start + 0.07,
              "namespace": "aws", "aws": {"operation": "UpdateItem"}}]},
    ]  # fmt: skip


# ----------------------------------------------------------------- parsing
def test_parses_a_segment_and_a_streamed_subsegment():
    segment = {"id": "1111222233334444", "trace_id": "1-abc-def", "name": "fn", "start_time": 1.0, "end_time": 2.0}
    assert parse_datagram(datagram(segment)) == segment
    sub = {**segment, "id": "5555666677778888", "type": "subsegment", "parent_id": "1111222233334444"}
    assert parse_datagram(datagram(sub))["parent_id"] == "1111222233334444"
    in_progress = {k: v for k, v in segment.items() if k != "end_time"} | {"in_progress": True}
    assert parse_datagram(datagram(in_progress))["in_progress"] is True


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no header line"),
        (b'{"id": "x"}', "no header line"),
        (b"not json\n{}", "header is not JSON"),
        (b'{"format": "xml", "version": 1}\n{}', "unexpected header"),
        (HEADER + b"{not json", "not JSON"),
        (HEADER + b"[1, 2]", "not an object"),
        (HEADER + b'{"trace_id": "t", "name": "n", "start_time": 1, "end_time": 2}', "no id"),
        (HEADER + b'{"id": "i", "name": "n", "start_time": 1, "end_time": 2}', "no trace_id"),
        (HEADER + b'{"id": "i", "trace_id": "t", "name": "n", "end_time": 2}', "start_time"),
        (HEADER + b'{"id": "i", "trace_id": "t", "name": "n", "start_time": 1}', "neither end_time nor in_progress"),
        (b"\xff\xfe\n{}", "not UTF-8"),
    ],
)
def test_malformed_datagrams_say_why(data: bytes, reason: str):
    with pytest.raises(MalformedDatagram, match=reason):
        parse_datagram(data)


# ----------------------------------------------------------------- the sink in-process
@pytest.fixture()
def sink(tmp_path: Path) -> Iterator[XRaySink]:
    running = XRaySink(SegmentStore(tmp_path / "xray" / "segments.jsonl"), "127.0.0.1", 0, 0)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def send(sink: XRaySink, *payloads: bytes) -> None:
    before = sink.received
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for payload in payloads:
            sock.sendto(payload, sink.udp_address)
    poll(lambda: sink.received >= before + len(payloads), f"{len(payloads)} datagrams to arrive")


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def segments(sink: XRaySink, query: str = "") -> list[dict[str, Any]]:
    status, body = get(f"{sink.http_url}/segments{query}")
    assert status == 200, body
    return body["Segments"]


def test_stores_documents_and_answers_queries_per_trace(sink: XRaySink):
    a = saga_trace("1-aaaaaaaa-000000000000000000000001", "a000000000000000", E1, "req-1", 100.0)
    b = saga_trace("1-aaaaaaaa-000000000000000000000002", "b000000000000000", E2, "req-2", 200.0)
    payment = function_segment(function="payment", function_arn="arn:payment", request_id="req-3", root="1-aaaaaaaa-000000000000000000000003",
                               parent="c000000000000000", start=150.0, end=150.1, error={"errorType": "Boom", "errorMessage": "no"})  # fmt: skip
    send(sink, *(datagram(d) for d in [*a, *b, payment]))

    assert {d["trace_id"] for d in segments(sink)} == {a[0]["trace_id"], b[0]["trace_id"], payment["trace_id"]}
    # execution_arn selects whole traces: the business subsegment has no annotation of its own
    by_execution = segments(sink, f"?execution_arn={E1}")
    assert [d["name"] for d in by_execution] == ["order-saga", "## lambda_handler", "## order_saga.inventory.reserve_items"]
    assert [d["trace_id"] for d in segments(sink, f"?trace_id={b[0]['trace_id']}")] == [b[0]["trace_id"]] * 3
    assert {d["trace_id"] for d in segments(sink, "?function=payment")} == {payment["trace_id"]}
    assert {d["trace_id"] for d in segments(sink, "?request_id=req-2&request_id=req-3")} == {b[0]["trace_id"], payment["trace_id"]}
    assert segments(sink, f"?execution_arn={E1}&function=payment") == []
    assert segments(sink, "?execution_arn=nope") == []

    lines = sink.store.path.read_text().splitlines()
    assert len(lines) == 7 and all(json.loads(line)["trace_id"] for line in lines)


def test_in_progress_document_is_replaced_by_the_completed_one(sink: XRaySink):
    base = {"id": "d000000000000000", "trace_id": "1-bbbbbbbb-000000000000000000000001", "name": "fn", "start_time": 1.0}
    send(sink, datagram({**base, "in_progress": True}))
    assert segments(sink)[0]["in_progress"] is True
    send(sink, datagram({**base, "end_time": 2.0}), datagram({**base, "in_progress": True}))  # a late, reordered update
    [document] = segments(sink)
    assert document["end_time"] == 2.0 and "in_progress" not in document
    assert len(sink.store.path.read_text().splitlines()) == 3  # every document is kept on disk


def test_malformed_datagrams_are_counted_and_the_sink_keeps_serving(sink: XRaySink, caplog: pytest.LogCaptureFixture):
    good = {"id": "e000000000000000", "trace_id": "1-cccccccc-000000000000000000000001", "name": "fn", "start_time": 1.0, "end_time": 2.0}
    send(sink, b"garbage", HEADER + b"{", b"\x00" * 100, datagram(good))
    status, health = get(f"{sink.http_url}/health")
    assert status == 200
    assert (health["received"], health["malformed"], health["stored"]) == (4, 3, 1)
    assert "malformed datagram" in caplog.text
    assert [d["id"] for d in segments(sink)] == [good["id"]]


def test_unknown_query_parameters_and_paths_are_refused(sink: XRaySink):
    status, body = get(f"{sink.http_url}/segments?executionArn=x")
    assert status == 400 and "executionArn" in body["message"]
    assert get(f"{sink.http_url}/nothing")[0] == 404


def test_documents_survive_a_restart_and_a_cut_line_is_skipped(tmp_path: Path):
    path = tmp_path / "segments.jsonl"
    store = SegmentStore(path)
    for document in saga_trace("1-dddddddd-000000000000000000000001", "f000000000000000", E1, "req-9", 5.0):
        store.add(document)
    with open(path, "a", encoding="utf-8") as out:
        out.write('{"id": "cut short by a cr')
    again = SegmentStore(path)
    assert len(again) == 3
    assert [d["name"] for d in again.query({"execution_arn": [E1]})][0] == "order-saga"


def test_the_store_holds_what_its_capped_files_hold_across_rotations_and_restarts(tmp_path: Path):
    path = tmp_path / "segments.jsonl"
    store = SegmentStore(path, max_bytes=3000)
    traces = [saga_trace(f"1-dddddddd-{n:024d}", f"{n:015d}f", E1 if n % 2 else E2, f"req-{n}", float(n)) for n in range(30)]
    for trace in traces:
        for document in trace:
            store.add(document)
    assert [p.name for p in capped_files.files(path)] == ["segments.jsonl.2", "segments.jsonl.1", "segments.jsonl"]
    on_disk = [json.loads(line) for line in capped_files.read_lines(path)]
    assert len(store) == len(on_disk) < 90  # the oldest file's documents are gone from memory too
    answered = store.query()
    assert sorted(d["id"] for d in answered) == sorted(d["id"] for d in on_disk)
    assert store.query({"execution_arn": [E1]}) == SegmentStore(path, max_bytes=3000).query({"execution_arn": [E1]})  # a restart answers the same
    # a trace whose documents lie in two files is answered whole
    first_of_current = json.loads(path.read_text().splitlines()[0])
    split = next(t for t in traces if t[0]["trace_id"] == first_of_current["trace_id"])
    assert first_of_current["id"] != split[0]["id"], "this trace starts in the current file: pick another split"
    assert [d["id"] for d in store.query({"trace_id": [split[0]["trace_id"]]})] == [d["id"] for d in split]


def free_udp_and_tcp_port() -> int:
    """A port number free for both protocols, as the sink binds both."""
    return free_port(socket.SOCK_DGRAM)


def test_the_module_serves_both_protocols_and_stops_cleanly_on_sigterm(tmp_path: Path):
    port = free_udp_and_tcp_port()
    env = {**os.environ, "WORKSHOP_STATE_DIR": str(tmp_path), "WORKSHOP_XRAY_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "workshop.stack.xray_sink"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:

        def healthy() -> dict[str, Any] | None:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                return get(f"http://127.0.0.1:{port}/health")[1]
            except OSError:
                return None

        poll(healthy, "the sink to answer /health")
        document = {"id": "9000000000000000", "trace_id": "1-eeeeeeee-000000000000000000000001", "name": "fn", "start_time": 1.0, "end_time": 2.0}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(datagram(document), ("127.0.0.1", port))
        poll(lambda: healthy()["stored"] == 1, "the datagram to be stored")
    finally:
        os.kill(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=DEADLINE_S)[0].decode()
    assert process.returncode == 0, output
    assert "stopped after 1 datagrams (0 malformed)" in output
    assert json.loads((tmp_path / "xray" / "segments.jsonl").read_text())["id"] == document["id"]


def test_stack_reports_a_taken_udp_port_for_the_sink(tmp_path: Path):
    service = next(s for s in stack.SERVICES if s.name == "xray-sink")
    assert service.udp and service.health_path == "/health" and service.marker == "workshop.stack.xray_sink"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        if not stack.port_free("127.0.0.1", port):
            pytest.skip("the TCP port of that number is taken too")
        assert not stack.port_free("127.0.0.1", port, udp=True)
        config = StackConfig(state_dir=tmp_path, xray_port=port)
        with pytest.raises(stack.StackError, match=rf"Port {port} \(xray-sink\) is already in use.*WORKSHOP_XRAY_PORT="):
            processes._start(config, service)
    assert not (tmp_path / "pids" / "xray-sink.pid").exists()


# ----------------------------------------------------------------- the function host's segment
def test_trace_header_and_function_segment_fit_together(sink: XRaySink):
    header, root, parent = trace_header()
    assert header == f"Root={root};Parent={parent};Sampled=1"
    assert root.startswith("1-") and len(root.split("-")[2]) == 24 and len(parent) == 16
    assert emit_function_segment(
        sink.udp_address, function="order-saga", function_arn="arn:x", request_id="req-1", root=root, parent=parent,
        start=10.0, end=10.5, execution_arn=E1, result={"Status": "SUCCEEDED"},
    )  # fmt: skip
    [segment] = poll(lambda: segments(sink, f"?trace_id={root}"), "the function segment")
    assert segment["id"] == parent and segment["origin"] == "AWS::Lambda::Function"
    assert segment["aws"]["request_id"] == "req-1"
    assert segment["annotations"] == {"execution_arn": E1, "durable_status": "SUCCEEDED"}


def test_emitting_never_raises():
    assert emit_function_segment(("256.0.0.1", 1), function="f", function_arn="a", request_id="r", root="t", parent="p", start=0, end=1) is False
    assert emit_function_segment(("127.0.0.1", 9), function="f") is False  # a missing field: no exception either


# ----------------------------------------------------------------- workshop traces
def test_traces_are_grouped_per_execution_and_numbered_by_the_index():
    documents = [
        *saga_trace("1-ffffffff-000000000000000000000002", "2000000000000000", E1, "req-2", 20.0),
        *saga_trace("1-ffffffff-000000000000000000000001", "1000000000000000", E1, "req-1", 10.0),
        function_segment(function="payment", function_arn="a", request_id="req-p", root="1-ffffffff-000000000000000000000003",
                         parent="3000000000000000", start=15.0, end=15.1),
        # a subsegment whose parent never arrived
        {"id": "4000000000000000", "trace_id": "1-ffffffff-000000000000000000000004", "type": "subsegment", "parent_id": "lost",
         "name": "## handler", "start_time": 30.0, "end_time": 30.1},
    ]  # fmt: skip
    index = [{"request_id": "req-0", "execution_arn": E1, "start": 1.0}, {"request_id": "req-1", "execution_arn": E1, "start": 10.0},
             {"request_id": "req-2", "execution_arn": E1, "start": 20.0}]  # fmt: skip
    groups = group_traces(build_traces(documents), index)
    assert [(g.execution_arn, g.function, len(g.traces)) for g in groups] == [(E1, "order-saga", 2), (None, "payment", 1), (None, None, 1)]
    execution = groups[0]
    assert execution.recorded == 3 and [t.number for t in execution.traces] == [2, 3]  # req-0 was never traced
    first = execution.traces[0]
    [root] = first.roots
    assert root.doc["origin"] == "AWS::Lambda::Function" and first.request_id == "req-1"
    assert [c.doc["name"] for c in root.children] == ["## lambda_handler", "## order_saga.inventory.reserve_items"]
    assert [c.doc["name"] for c in root.children[1].children] == ["dynamodb"]  # un-nested from its parent document
    assert groups[2].traces[0].roots[0].orphan


class IndexedServices(Services):
    def __init__(self, config: StackConfig, index: list[dict[str, Any]]) -> None:
        super().__init__(config=config)
        self.index = index

    def invocations(self, execution_arn: str | None = None, function: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.index if execution_arn in (None, e.get("execution_arn"))]


def config_for(tmp_path: Path, sink: XRaySink) -> StackConfig:
    return StackConfig(state_dir=tmp_path, xray_port=int(sink.http_url.rsplit(":", 1)[1]))


def test_workshop_traces_draws_the_tree_of_an_execution(
    sink: XRaySink, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COLUMNS", "200")  # one line per node, as in a wide terminal
    send(sink, *(datagram(d) for d in saga_trace("1-aaaaaaaa-000000000000000000000009", "9000000000000000", E1, "req-1", 10.0)))
    # an invocation whose segments carry no annotation: found through the index's request id
    bare = function_segment(function="order-saga", function_arn="a", request_id="req-2", root="1-aaaaaaaa-00000000000000000000000a",
                            parent="a100000000000000", start=20.0, end=20.2)  # fmt: skip
    send(sink, datagram(bare))
    index = [{"request_id": "req-1", "execution_arn": E1, "start": 10.0}, {"request_id": "req-2", "execution_arn": E1, "start": 20.0}]
    services = IndexedServices(config_for(tmp_path, sink), index)

    assert main(["traces", "--execution", E1], services=services) == 0
    text = capsys.readouterr().out
    assert f"\n{E1}" in text and "2 invocations shown, 2 recorded by the function host" in text
    assert "order-saga  invocation 1  request req-1" in text and "PENDING" in text
    assert "## lambda_handler" in text and "execution_arn ✓" in text and "ColdStart=True" in text
    assert "## order_saga.inventory.reserve_items" in text and "dynamodb UpdateItem" in text
    assert "invocation 2  request req-2" in text

    assert main(["traces", "--execution", E1, "--json"], services=services) == 0
    data = json.loads(capsys.readouterr().out)
    [group] = data["executions"]
    assert [t["request_id"] for t in group["traces"]] == ["req-1", "req-2"]
    handler = group["traces"][0]["segments"][0]["children"][0]
    assert handler["name"] == "## lambda_handler" and handler["annotations"]["execution_arn"] == E1


def test_workshop_traces_without_a_sink_says_how_to_start_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = StackConfig(state_dir=tmp_path, xray_port=free_udp_and_tcp_port())
    assert main(["traces"], services=Services(config=config)) == 1
    err = capsys.readouterr().err
    assert "X-Ray sink" in err and "make up" in err and "Traceback" not in err


def test_workshop_traces_with_nothing_recorded(sink: XRaySink, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["traces"], services=Services(config=config_for(tmp_path, sink))) == 0
    assert "No traces yet" in capsys.readouterr().out


def test_workshop_traces_limit_keeps_the_invocation_numbers_of_the_index(
    sink: XRaySink, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("COLUMNS", "200")
    index = []
    for n in (1, 2, 3):
        send(sink, *(datagram(d) for d in saga_trace(f"1-aaaaaaaa-00000000000000000000010{n}", f"{n}b00000000000000", E1, f"req-{n}", 10.0 * n)))
        index.append({"request_id": f"req-{n}", "execution_arn": E1, "start": 10.0 * n})
    assert main(["traces", "--limit", "2"], services=IndexedServices(config_for(tmp_path, sink), index)) == 0
    text = capsys.readouterr().out
    assert "2 invocations shown, 3 recorded by the function host" in text
    assert "invocation 1 " not in text and "invocation 2  request req-2" in text and "invocation 3  request req-3" in text
