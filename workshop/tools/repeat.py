"""Run live tests many times in a row, optionally with every core kept busy: rare windows show.

``python -m workshop.tools.repeat --runs 20 [--load] [TEST ...]`` (``make repeat``)
runs pytest on the tests once per run, each run in a fresh process with a
stack of its own, and prints one line per run (passed or failed, the time,
and the summary lines the tests printed), then the tally.

``--load`` starts one busy-looping process per core before the first run and
stops them by the process ids it recorded after the last: a machine whose
cores are all taken by something else, as on a laptop in a busy room.

Every run has a deadline (``--timeout``): a run still going then is asked to
stop (SIGINT, so its fixtures stop its stack), then killed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workshop.config import REPO_ROOT

DEFAULT_TEST = "tests/integration/test_ingest_live.py::test_reliability_duplicates_post_once_and_malformed_reach_the_dlq"
SUMMARY_LABELS = ("ingest reliability", "host restart", "slow batches")
STOP_GRACE_S = 60.0


@contextmanager
def busy_cores(count: int) -> Iterator[list[int]]:
    """`count` processes that spin until stopped; their pids."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield [p.pid for p in spinners]
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait(timeout=10)


def run_once(tests: list[str], timeout_s: float, base_temp: Path) -> tuple[int, float, str]:
    """(pytest's exit code, seconds, its output); exit code 124 when the deadline passed."""
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", f"--basetemp={base_temp}", *tests]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)  # pytest's teardown stops the run's stack by pid
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            code = 124
        output.seek(0)
        text = output.read().decode(errors="replace")
    return code, time.monotonic() - started, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.tools.repeat", description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", default=[DEFAULT_TEST], help="pytest node ids, run together (default: the ingest reliability check)")
    parser.add_argument("--runs", type=int, default=20, help="how many runs (default 20)")
    parser.add_argument("--load", action="store_true", help="keep every core busy with a spinning process meanwhile")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one run may take (default 600)")
    parser.add_argument(
        "--summary", action="append", default=None,
        help="print the tests' output lines that start with this (repeatable; default: 'ingest reliability', 'host restart', 'slow batches')",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    labels = tuple(args.summary or SUMMARY_LABELS)
    cores = os.cpu_count() or 1
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="workshop-repeat-") as scratch, busy_cores(cores if args.load else 0) as spinners:
        load = f"{len(spinners)} busy processes (pids {', '.join(map(str, spinners))})" if spinners else "no added load"
        print(f"{' '.join(args.tests)}: {args.runs} runs, {load}", flush=True)
        for run in range(1, args.runs + 1):
            code, seconds, text = run_once(args.tests, args.timeout, Path(scratch) / f"run-{run}")
            ok = code == 0
            passed, failed = passed + ok, failed + (not ok)
            lines = [line.strip() for line in text.splitlines() if line.strip().startswith(labels)]
            verdict = "passed" if ok else ("TIMED OUT" if code == 124 else f"FAILED (exit {code})")
            print(f"run {run:2d}: {verdict} in {seconds:.0f} s", *(f"  {line}" for line in lines), sep="\n", flush=True)
            if not ok:
                tail = [line for line in text.splitlines() if line.startswith(("E ", "FAILED", "ERROR"))][-8:]
                print(*(f"  | {line}" for line in tail), sep="\n", flush=True)
    print(f"repeat: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("repeat: interrupted")
        raise SystemExit(130) from None
