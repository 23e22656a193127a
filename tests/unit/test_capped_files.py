"""The cap on the stack's logs and segments.jsonl (workshop/capped_files.py): where a file
is cut, what the readers see across a rotation, the setting, copytruncate for the services'
own output (alone, with O_APPEND writers, and as the function host's log keeper runs it),
and a service as `make up` starts it (the X-Ray sink: light, and it logs per datagram).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration import polling

from workshop import capped_files, stack, system
from workshop.capped_files import CappedFile, backup_path
from workshop.config import StackConfig
from workshop.stack import processes
from workshop.stack.ports import free_port

DEADLINE_S = 10.0


def wait_for(predicate: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """The live tests' deadline wait (tests/integration/polling.py), polled every 0.02 s."""
    return polling.wait_for(predicate, what, deadline_s, interval=0.02)


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


# ----------------------------------------------------------------- copytruncate
def test_copytruncate_rotates_at_the_cap_in_place_with_the_same_names(tmp_path: Path):
    log = tmp_path / "runner.log"
    log.write_bytes(numbered(1, 9))  # 99 bytes
    inode = log.stat().st_ino
    assert capped_files.copytruncate(log, 110) is False  # under the cap: left alone
    assert [p.name for p in capped_files.files(log)] == ["runner.log"]
    for first in (1, 11, 21):  # three rotations: the third drops the oldest
        log.write_bytes(numbered(first, 10))  # 110 bytes: at the cap
        assert capped_files.copytruncate(log, 110) is True
        assert log.stat().st_size == 0 and log.stat().st_ino == inode  # emptied in place, not renamed
    assert [p.name for p in capped_files.files(log)] == ["runner.log.2", "runner.log.1", "runner.log"]
    assert backup_path(log, 2).read_bytes() == numbered(11, 10)
    assert backup_path(log, 1).read_bytes() == numbered(21, 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runner.log", "runner.log.1", "runner.log.2"]  # no marker, no copy left
    assert capped_files.copytruncate(tmp_path / "none.log", 110) is False


def test_an_o_append_writer_with_its_fd_open_goes_on_writing_to_name_after_the_truncate(tmp_path: Path):
    log = tmp_path / "emulator.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)  # as `make up` opens a service's stdout
    try:
        os.write(fd, numbered(1, 10))
        assert capped_files.copytruncate(log, 110)
        os.write(fd, numbered(11, 5))
    finally:
        os.close(fd)
    assert log.read_bytes() == numbered(11, 5)  # at the new end: no hole of NULs where the old lines were
    assert backup_path(log, 1).read_bytes() == numbered(1, 10)
    assert numbers(capped_files.read_lines(log)) == list(range(1, 16))  # the readers see both, in order


def test_a_writer_without_o_append_would_leave_a_hole_which_is_why_the_services_use_it(tmp_path: Path):
    log = tmp_path / "emulator.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, numbered(1, 10))
        capped_files.copytruncate(log, 110)
        os.write(fd, numbered(11, 1))
    finally:
        os.close(fd)
    assert log.read_bytes() == b"\0" * 110 + numbered(11, 1)


def test_a_service_process_logging_through_o_append_keeps_logging_across_rotations(tmp_path: Path):
    """A child whose stdout and stderr are the log, opened as workshop.stack.processes opens it."""
    log = tmp_path / "explorer.log"
    echo = "import sys\nfor line in sys.stdin:\n    print(line, end='', flush=True)\n"
    with open(log, "ab") as output:
        child = subprocess.Popen([sys.executable, "-c", echo], stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT)
    try:
        for first in (1, 11, 21):
            child.stdin.write(numbered(first, 10))
            child.stdin.flush()
            wait_for(lambda: log.stat().st_size >= 110, f"the child to write lines {first}-{first + 9}")
            assert capped_files.copytruncate(log, 110)
        child.stdin.write(numbered(31, 3))
        child.stdin.close()
        assert child.wait(timeout=DEADLINE_S) == 0
    finally:
        child.kill()
    assert log.read_bytes() == numbered(31, 3)
    assert [p.read_bytes() for p in capped_files.files(log)] == [numbered(11, 10), numbered(21, 10), numbered(31, 3)]


def test_what_is_appended_during_the_first_copy_goes_to_name_1_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    log = tmp_path / "function-host.log"
    log.write_bytes(numbered(1, 10))
    real_copy = capped_files._copy_to_end
    passes = []

    def copy_while_a_service_writes(source: int, target: int) -> None:
        real_copy(source, target)
        passes.append(1)
        if len(passes) == 1:  # a service writes after the bulk is copied, before the copy is in place
            with open(log, "ab") as service:
                service.write(numbered(11, 2))

    monkeypatch.setattr(capped_files, "_copy_to_end", copy_while_a_service_writes)
    assert capped_files.copytruncate(log, 110)
    assert passes == [1, 1]
    assert backup_path(log, 1).read_bytes() == numbered(1, 12) and log.read_bytes() == b""


def test_a_reader_waits_for_a_copytruncate_under_way_and_sees_each_line_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The moment between the copy in place and the truncate: NAME.1 holds 1-10 and NAME still 1-12."""
    log = tmp_path / "runner.log"
    backup_path(log, 1).write_bytes(numbered(1, 10))
    log.write_bytes(numbered(1, 12))
    capped_files.rotation_marker(log).touch()
    waited = []

    def sleep(seconds: float) -> None:  # the keeper finishes while the reader waits
        waited.append(seconds)
        with open(log, "r+b") as name:
            name.write(numbered(11, 2))
            name.truncate(22)
        capped_files.rotation_marker(log).unlink()

    monkeypatch.setattr(capped_files.time, "sleep", sleep)
    assert numbers(capped_files.read_lines(log)) == list(range(1, 13))
    assert len(waited) == 1


def test_a_marker_a_killed_host_left_is_ignored_by_readers_and_removed_by_the_keeper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from workshop.host.log_keeper import LogKeeper

    log = tmp_path / "runner.log"
    log.write_bytes(numbered(1, 3))
    marker = capped_files.rotation_marker(log)
    marker.touch()
    old = time.time() - capped_files.STALE_ROTATION_S - 1
    os.utime(marker, (old, old))
    monkeypatch.setattr(capped_files.time, "sleep", lambda s: pytest.fail("waited for a stale marker"))
    assert numbers(capped_files.read_lines(log)) == [1, 2, 3]
    monkeypatch.undo()
    (tmp_path / "runner.log.copy").write_bytes(b"half a copy")
    stop = threading.Event()
    stop.set()  # one pass at start, then it ends
    keeper = LogKeeper(tmp_path, 110, stop)
    keeper.start()
    assert keeper.join(DEADLINE_S)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runner.log"]


# ----------------------------------------------------------------- the function host's log keeper
def test_the_keeper_rotates_the_service_logs_at_the_cap_and_leaves_the_functions_logs(tmp_path: Path):
    from workshop.host.log_keeper import LogKeeper

    (tmp_path / "functions").mkdir()
    function_log = tmp_path / "functions" / "payment.log"
    function_log.write_bytes(numbered(1, 20))  # capped by the host as it writes them, not by the keeper
    small, big = tmp_path / "explorer.log", tmp_path / "runner.log"
    small.write_bytes(numbered(1, 2))
    stop = threading.Event()
    keeper = LogKeeper(tmp_path, 110, stop, every_s=0.02)
    keeper.start()
    try:
        with open(big, "ab") as service:
            service.write(numbered(1, 10))
            service.flush()
            wait_for(lambda: backup_path(big, 1).exists(), "the keeper to rotate runner.log")
            service.write(numbered(11, 1))
    finally:
        stop.set()
    assert keeper.join(DEADLINE_S), "the keeper did not end when told to"
    assert backup_path(big, 1).read_bytes() == numbered(1, 10) and big.read_bytes() == numbered(11, 1)
    assert [p.name for p in capped_files.files(small)] == ["explorer.log"]
    assert [p.name for p in capped_files.files(function_log)] == ["payment.log"]
    assert keeper.rotations == 1


def test_the_function_host_runs_the_keeper_and_stops_it_when_it_stops(tmp_path: Path):
    from workshop.host.backend import FunctionHost

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "runner.log").write_bytes(numbered(1, 200))  # 2,200 bytes, over a 2 KB cap
    host = FunctionHost(StackConfig(state_dir=tmp_path, log_max_mb=0.002))
    host.start()
    try:
        assert host.log_keeper.thread.is_alive()
        wait_for(lambda: backup_path(logs / "runner.log", 1).exists(), "the host's first check to rotate runner.log")
    finally:
        host.stop()
    assert not host.log_keeper.thread.is_alive()  # stop() waited for it: no rotation cut at exit
    assert backup_path(logs / "runner.log", 1).read_bytes() == numbered(1, 200) and (logs / "runner.log").read_bytes() == b""


def free_udp_and_tcp_port() -> int:
    """A port number free for both protocols, as the sink binds both."""
    return free_port(socket.SOCK_DGRAM)


def health(config: StackConfig) -> dict[str, Any]:
    with urllib.request.urlopen(f"{config.xray_url}/health", timeout=5) as response:
        return json.loads(response.read())


def test_a_started_service_caps_its_segments_and_logs_on_through_a_copytruncate(tmp_path: Path):
    """The X-Ray sink as `make up` starts it, with a 2 KB cap: its segments.jsonl (~110 bytes a
    document) rotates, a query sees the segments across the rotation; its log, rotated by the
    keeper's copytruncate while it runs, goes on in the same file, and `_stop` leaves no process."""
    from workshop.host.log_keeper import LogKeeper

    config = StackConfig(state_dir=tmp_path, xray_port=free_udp_and_tcp_port(), log_max_mb=0.002)
    sink = next(s for s in stack.SERVICES if s.name == "xray-sink")
    keeper = LogKeeper(tmp_path / "logs", config.log_max_bytes, threading.Event())  # checked by hand here
    processes._start(config, sink)
    try:
        pid = stack.running_pid(config, sink)
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
            assert keeper.check() == 1  # xray-sink.log: 40 warnings, over 2 KB
            for n in range(40, 45):
                udp.sendto(b"malformed %d" % n, ("127.0.0.1", config.xray_port))
            wait_for(lambda: health(config)["received"] == 145, "5 more datagrams to arrive")
    finally:
        processes._stop(config, sink)
    assert pid is not None and not system.alive(pid)
    log = tmp_path / "logs" / "xray-sink.log"
    assert b"\0" not in log.read_bytes() and log.stat().st_size < 2000  # written on from the start of the emptied file

    def warned(lines: list[str]) -> list[int]:
        return [int(line.rsplit("b'malformed ", 1)[1].rstrip("'")) for line in lines if "b'malformed " in line]

    assert warned(backup_path(log, 1).read_text().splitlines())[-1] == 39
    assert warned(log.read_text().splitlines()) == [40, 41, 42, 43, 44]  # the lines written after the rotation, in NAME
    assert warned(capped_files.read_lines(log)) == list(range(45))  # and the readers see all of them, across it
    assert "stopped after 145 datagrams (45 malformed)" in log.read_text().splitlines()[-1]  # the last line, written as it stopped


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
