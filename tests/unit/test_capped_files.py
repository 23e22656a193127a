"""The cap on the stack's logs and segments.jsonl (workshop/capped_files.py): where a file
is cut, what the readers see across a rotation, the setting, and the log pump, alone
and as `make up` starts it for a service (the X-Ray sink: light, and it logs per datagram).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workshop import capped_files, stack
from workshop.capped_files import CappedFile, backup_path
from workshop.config import REPO_ROOT, StackConfig
from workshop.stack import processes

DEADLINE_S = 10.0


def wait_for(predicate: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out after {deadline_s:.0f} s waiting for {what}")


def numbered(first: int, count: int) -> bytes:
    """Lines `line 00001` ... of 11 bytes each: a gap or a repeat shows in the numbers."""
    return b"".join(b"line %05d\n" % n for n in range(first, first + count))


def numbers(lines: list[str]) -> list[int]:
    return [int(line.split()[1]) for line in lines]


# ----------------------------------------------------------------- where a file is cut
def test_the_file_rotates_at_the_cap_between_lines(tmp_path: Path):
    log = tmp_path / "a.log"
    capped = CappedFile(log, max_bytes=110)  # ten lines exactly
    assert capped.append(numbered(1, 10)) == 0
    assert log.stat().st_size == 110 and not backup_path(log, 1).exists()
    assert capped.append(numbered(11, 1)) == 1  # the eleventh would pass the cap: rotated first
    assert backup_path(log, 1).read_bytes() == numbered(1, 10)
    assert log.read_bytes() == numbered(11, 1)


def test_a_chunk_across_the_cap_is_cut_after_a_newline(tmp_path: Path):
    log = tmp_path / "a.log"
    capped = CappedFile(log, max_bytes=50)  # four lines and 6 bytes: the fifth line does not fit
    assert capped.append(numbered(1, 12)) == 2
    assert [p.name for p in capped_files.files(log)] == ["a.log.2", "a.log.1", "a.log"]
    assert [p.read_bytes() for p in capped_files.files(log)] == [numbered(1, 4), numbered(5, 4), numbered(9, 4)]


def test_two_backups_are_kept_and_the_readers_see_every_line_they_hold_in_order(tmp_path: Path):
    log = tmp_path / "a.log"
    capped = CappedFile(log, max_bytes=110)
    for n in range(1, 1001, 7):  # 143 chunks of 7 lines: 1 to 1001
        capped.append(numbered(n, 7))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.log", "a.log.1", "a.log.2"]
    assert all(p.stat().st_size <= 110 for p in tmp_path.iterdir())
    seen = numbers(capped_files.read_lines(log))
    # the newest lines, none missing, none twice: two full backups and the current file
    assert seen == list(range(981, 1002))
    assert capped_files.tail(log, 15).splitlines() == [f"line {n:05d}" for n in range(987, 1002)]
    assert capped_files.total_bytes(log) == sum(p.stat().st_size for p in tmp_path.iterdir())


def test_a_line_longer_than_the_cap_gets_a_file_of_its_own(tmp_path: Path):
    log = tmp_path / "a.log"
    capped = CappedFile(log, max_bytes=20)
    capped.append(b"short\n")
    capped.append(b"x" * 50 + b"\nafter\n")
    assert [p.read_bytes() for p in capped_files.files(log)] == [b"short\n", b"x" * 50 + b"\n", b"after\n"]


def test_a_reader_caught_by_a_rotation_reads_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The rotation lands between the reader's read of NAME and of NAME.1 (newest first)."""
    log = tmp_path / "a.log"
    capped = CappedFile(log, max_bytes=110)
    capped.append(numbered(1, 15))  # a.log.1: 1-10, a.log: 11-15
    real_read_bytes = Path.read_bytes
    rotated = []

    def read_bytes(path: Path) -> bytes:
        data = real_read_bytes(path)
        if path == log and not rotated:
            rotated.append(capped.append(numbered(16, 6)))  # 11-20 to a.log.1, 21 begins a.log
        return data

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert numbers(capped_files.read_lines(log)) == list(range(1, 22))
    assert rotated == [1]


def test_no_file_reads_as_no_log(tmp_path: Path):
    assert capped_files.tail(tmp_path / "none.log", 5) == "(no log)"
    assert capped_files.read_lines(tmp_path / "none.log") == []


# ----------------------------------------------------------------- the setting
@pytest.mark.parametrize("raw", ["ten", "0", "-1", "nan", "inf", "5MB", "2000"])
def test_a_bad_cap_is_refused_with_the_setting_named(raw: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WORKSHOP_LOG_MAX_MB", raw)
    with pytest.raises(SystemExit, match=rf"WORKSHOP_LOG_MAX_MB='{raw}'.*(number of megabytes|more than 0 and at most 1024)"):
        StackConfig()


def test_the_cap_defaults_to_5_mb_and_takes_decimals(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WORKSHOP_LOG_MAX_MB", raising=False)
    assert StackConfig().log_max_bytes == 5_000_000
    monkeypatch.setenv("WORKSHOP_LOG_MAX_MB", " 0.5 ")
    assert StackConfig().log_max_bytes == 500_000


# ----------------------------------------------------------------- the log pump
def test_the_pump_caps_its_input_and_ends_with_it(tmp_path: Path):
    log = tmp_path / "logs" / "service.log"
    pump = subprocess.Popen(
        [sys.executable, "-S", "-m", "workshop.capped_files", "pump", str(log), "--max-bytes", "110"],
        stdin=subprocess.PIPE, cwd=REPO_ROOT, stderr=subprocess.PIPE,
    )  # fmt: skip
    for n in range(1, 101, 9):  # 12 writes of 9 lines: 1 to 108
        pump.stdin.write(numbered(n, 9))
        pump.stdin.flush()
    pump.stdin.close()  # every writer gone: the pump ends by itself
    assert pump.wait(timeout=DEADLINE_S) == 0, pump.stderr.read().decode()
    assert numbers(capped_files.read_lines(log)) == list(range(81, 109))  # 10 + 10 + 8 lines
    assert all(p.stat().st_size <= 110 for p in capped_files.files(log))


def free_udp_and_tcp_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            if stack.port_free("127.0.0.1", port):
                return port
    pytest.fail("no port free for both UDP and TCP")


def health(config: StackConfig) -> dict[str, Any]:
    with urllib.request.urlopen(f"{config.xray_url}/health", timeout=5) as response:
        return json.loads(response.read())


def test_a_started_service_logs_through_its_pump_and_both_caps_hold(tmp_path: Path):
    """The X-Ray sink as `make up` starts it, with a 2 KB cap: its segments.jsonl (~110 bytes a
    document) and its log (a warning per malformed datagram) rotate, a query sees the segments
    across the rotation, and `_stop` leaves neither the service nor its pump."""
    config = StackConfig(state_dir=tmp_path, xray_port=free_udp_and_tcp_port(), log_max_mb=0.002)
    sink = next(s for s in stack.SERVICES if s.name == "xray-sink")
    processes._start(config, sink)
    try:
        pump = stack.log_pump_pid(config, sink)
        assert pump is not None
        trace = "1-abcdef01-000000000000000000000001"
        documents = [{"id": f"{n:016x}", "trace_id": trace, "name": "fn", "start_time": float(n), "end_time": n + 0.5} for n in range(100)]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for document in documents:
                udp.sendto(b'{"format": "json", "version": 1}\n' + json.dumps(document).encode(), ("127.0.0.1", config.xray_port))
            for n in range(40):
                udp.sendto(b"malformed %d" % n, ("127.0.0.1", config.xray_port))
        wait_for(lambda: health(config)["received"] == 140, "the 140 datagrams to arrive")
        segments = config.state_dir / "xray" / "segments.jsonl"
        assert backup_path(segments, 1).exists() and segments.stat().st_size <= 2000
        on_disk = [json.loads(line)["id"] for line in capped_files.read_lines(segments)]
        with urllib.request.urlopen(f"{config.xray_url}/segments?trace_id={trace}", timeout=5) as response:
            served = [d["id"] for d in json.loads(response.read())["Segments"]]
        assert 10 < len(on_disk) < 100  # the oldest file was dropped...
        assert served == on_disk == [d["id"] for d in documents][-len(on_disk) :]  # ...from memory too; the newest, in order, none lost
    finally:
        processes._stop(config, sink)
    assert stack.log_pump_pid(config, sink) is None and not (tmp_path / "pids" / "xray-sink.log-pump.pid").exists()
    assert not os.path.exists(f"/proc/{pump}") or Path(f"/proc/{pump}/stat").read_text().split(")")[-1].split()[0] == "Z"
    log = tmp_path / "logs" / "xray-sink.log"
    assert backup_path(log, 1).exists() and all(p.stat().st_size <= 2000 for p in capped_files.files(log))
    lines = capped_files.read_lines(log)
    warned = [int(line.rsplit("b'malformed ", 1)[1].rstrip("'")) for line in lines if "b'malformed " in line]
    assert warned == list(range(warned[0], 40))  # the newest warnings, none lost across the rotations
    assert "stopped after 140 datagrams (40 malformed)" in lines[-1]  # the last line, written as it stopped


def test_the_function_host_caps_each_functions_log(tmp_path: Path):
    from workshop.host.logsink import LogSink

    class Logs:  # CloudWatch Logs in the emulator: not what this test is about
        class exceptions:
            ResourceAlreadyExistsException = KeyError

        def __getattr__(self, name: str) -> Callable[..., None]:
            return lambda **kwargs: None

    sink = LogSink(Logs(), tmp_path, max_bytes=110)
    for n in range(1, 50, 3):
        sink.write("payment", "/aws/lambda/payment", "stream", [f"line {m:05d}" for m in range(n, n + 3)])
    log = tmp_path / "payment.log"
    assert [p.name for p in capped_files.files(log)] == ["payment.log.2", "payment.log.1", "payment.log"]
    assert all(p.stat().st_size <= 110 for p in capped_files.files(log))
    assert numbers(capped_files.read_lines(log)) == list(range(31, 52))  # 10 + 10 + 1 lines, the newest
