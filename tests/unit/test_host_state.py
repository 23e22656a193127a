"""The function host's small pieces of state: idle workers retired, execution ends seen."""

from __future__ import annotations

import threading
import time

from workshop.host.execution_ends import ExecutionEnds
from workshop.host.pool import WorkerPool


class _FakeWorker:
    def __init__(self, idle_for_s: float) -> None:
        self.last_used = time.monotonic() - idle_for_s
        self.killed = False

    def kill(self) -> None:
        self.killed = True


def test_extra_idle_workers_go_soon_and_the_last_one_later() -> None:
    pool = WorkerPool()
    used_2s_ago, used_4s_ago, used_8s_ago = _FakeWorker(2), _FakeWorker(4), _FakeWorker(8)
    alone_40s = _FakeWorker(40)
    pool._idle = {"busy-fn": [used_8s_ago, used_2s_ago, used_4s_ago], "quiet-fn": [alone_40s]}
    pool._all = {used_2s_ago, used_4s_ago, used_8s_ago, alone_40s}

    stopped = pool.reap_idle(older_than_s=30, extra_older_than_s=5)

    # busy-fn keeps its most recently used worker and the extra idle under 5 s; quiet-fn's only
    # worker, idle over 30 s, goes too
    assert stopped == 2
    assert sorted(pool._idle["busy-fn"], key=lambda w: w.last_used) == [used_4s_ago, used_2s_ago]
    assert (used_2s_ago.killed, used_4s_ago.killed, used_8s_ago.killed) == (False, False, True)
    assert pool._idle["quiet-fn"] == [] and alone_40s.killed


def test_a_waiter_is_woken_by_the_end_and_not_before() -> None:
    ends = ExecutionEnds(threading.Event())
    assert ends.wait("arn:one", 0.05) is False  # nothing ended: the wait runs out
    threading.Timer(0.05, ends.ended, args=("arn:one",)).start()
    assert ends.wait("arn:one", 5.0) is True
    assert ends.has_ended("arn:one") and not ends.has_ended("arn:two")
    ends.forget("arn:one")
    assert not ends.has_ended("arn:one")


def test_stopping_wakes_every_waiter() -> None:
    stop = threading.Event()
    ends = ExecutionEnds(stop)
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(ends.wait("arn:never", 30.0)))
    waiter.start()
    stop.set()
    ends.wake_all()
    waiter.join(5.0)
    assert not waiter.is_alive() and woken == [True]
