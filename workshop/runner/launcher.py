"""Our launcher for AWS's durable runner, with recovery after a restart.

    python -m workshop.runner.launcher start-server --host 127.0.0.1 --port 9014 \\
        --lambda-endpoint http://127.0.0.1:3001 --store-type sqlite --store-path P ...

Same flags as `dex-local-runner start-server` (its own argparse is reused), and
the same WebRunner, built as `cli.CliApp.start_server_command` builds it. The
differences:

- After the runner starts and before it serves, every incomplete execution in
  the store is recovered (workshop/runner/recovery.py says what and why):
  without this, an execution suspended on a wait, a retry, a callback timeout or
  an in-flight invocation stays RUNNING forever after a restart.
- WORKSHOP_TIME_SCALE=N runs the runner's clock N times faster (every durable
  timer, callback and heartbeat timeouts included; workshop/runner/timescale.py).
  Unset or 1: no change.
- A function whose configs entry has ``WorkshopTimeScale: N`` (a lab's copy,
  registered with a ``time_scale``) gets its waits, retry back-offs and
  callback timeouts fired N times sooner; every other function keeps its time
  (workshop/runner/function_scale.py).
- The sqlite store's file is held open for the runner's life (keep_store_open):
  the store opens and closes a connection per call, and SQLite checkpoints and
  deletes the WAL, with an fsync, whenever its last connection closes: every
  checkpoint of every execution paid for that (see docs/BENCHMARKS.md).
- ``--watch-function-configs PATH`` instead of ``--function-configs``: the
  function configs are read again whenever the file changes, so functions of a
  template deployed later (``workshop deploy``) can be ``context.invoke``d
  (workshop/runner/function_configs.py).
- Histories and execution ARNs as AWS gives them (workshop/runner/aws_shapes.py):
  StepSucceeded carries RetryDetails, InvocationCompleted its details,
  CallbackStarted its Timeout and HeartbeatTimeout, a whole error read with
  execution data says Truncated: false, and an execution's ARN is
  arn:aws:lambda:...:function:<name>:<version>/durable-execution/<name>/<id>.
- A stall guard (workshop/runner/stall_guard.py) invokes an execution whose
  handler has a change it has not seen and no invocation follows (a lost
  wake-up the soak found under load), logging each repair.
- SIGTERM stops it gracefully (server, executor, scheduler) within a couple of
  seconds; a second SIGTERM, or a stop that hangs, exits at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python_testing.cli import CliApp
from aws_durable_execution_sdk_python_testing.runner import WebRunner, WebRunnerConfig
from aws_durable_execution_sdk_python_testing.stores.base import StoreType
from aws_durable_execution_sdk_python_testing.web.server import WebServiceConfig

from workshop.runner.aws_shapes import install_aws_shapes
from workshop.runner.function_configs import watched
from workshop.runner.function_scale import install_function_scale
from workshop.runner.heartbeats import HeartbeatLog, heartbeat_log_path, install_heartbeat_log
from workshop.runner.internals import RecoveryUnsupported, check_internals
from workshop.runner.recovery import recover
from workshop.runner.stall_guard import StallGuard
from workshop.runner.timescale import install_time_scale

logger = logging.getLogger("workshop.runner.launcher")

STOP_GRACE_S = 3.0  # a graceful stop that takes longer than this ends with os._exit


class _Terminated(BaseException):
    """Raised in the main thread by the SIGTERM handler to leave serve_forever()."""


def _on_sigterm(signum: int, frame: Any) -> None:
    # A second SIGTERM while stopping: leave now.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(1))

    def watchdog() -> None:
        sys.stderr.write(f"workshop.runner.launcher: graceful stop took over {STOP_GRACE_S:.0f} s, exiting\n")
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(STOP_GRACE_S, watchdog)
    timer.daemon = True
    timer.start()
    raise _Terminated


class RunnerApp(CliApp):
    """dex-local-runner's CLI with only start-server, which also recovers executions."""

    def _create_parsers(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog="python -m workshop.runner.launcher",
            description="AWS's durable functions local runner (dex-local-runner) that recovers incomplete executions at start.",
        )
        subparsers = parser.add_subparsers(dest="command", help="Available commands", required=True)
        self._create_start_server_parser(subparsers)  # its flags, defaults and AWS_DEX_* variables
        subparsers.choices["start-server"].add_argument(
            "--watch-function-configs",
            metavar="PATH",
            help="a function configs JSON file read again whenever it changes (instead of --function-configs)",
        )
        return parser

    def start_server_command(self, args: argparse.Namespace) -> int:
        # Our own lines (one per recovered execution) are shown even at --log-level WARNING.
        logger.setLevel(min(logging.INFO, logging.getLevelNamesMapping().get(args.log_level, logging.INFO)))
        # As cli.CliApp.start_server_command builds it (1.4.0). --execution-timeout is accepted
        # and, as there, unused: each execution carries its own timeout.
        runner_config = WebRunnerConfig(
            web_service=WebServiceConfig(host=args.host, port=args.port, log_level=args.log_level),
            lambda_endpoint=args.lambda_endpoint,
            local_runner_endpoint=args.local_runner_endpoint,
            local_runner_region=args.local_runner_region,
            local_runner_mode=args.local_runner_mode,
            store_type=StoreType(args.store_type),
            store_path=args.store_path,
            invocation_timeout_seconds=args.invocation_timeout,
            skip_time=args.skip_time,
            function_configs=watched(Path(args.watch_function_configs)) if args.watch_function_configs else args.function_configs,
        )
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        recovery = None
        try:
            with keep_store_open(args.store_type, args.store_path), WebRunner(runner_config) as runner:
                check_internals(runner)  # fail before serving anything if recovery cannot work
                install_aws_shapes(runner)  # before recovery, which may start executions' invocations
                install_time_scale(runner, args.store_type, args.store_path, args.skip_time)  # WORKSHOP_TIME_SCALE; 1 = no change
                # after the global scale (it wraps that clock), before recovery (which re-arms through it)
                install_function_scale(runner, Path(args.watch_function_configs) if args.watch_function_configs else None)
                path = heartbeat_log_path(args.store_type, args.store_path)
                heartbeats = HeartbeatLog(path) if path else None
                if heartbeats:
                    install_heartbeat_log(runner, heartbeats)
                recovery = recover(runner, args.lambda_endpoint, heartbeats)
                guard = StallGuard(runner, time.monotonic).start()  # lost wake-ups: see stall_guard.py
                logger.info("durable runner serving on %s:%s (store %s %s)", args.host, args.port, args.store_type, args.store_path or "")
                try:
                    runner.serve_forever()
                finally:
                    guard.stop()
                    recovery.stop()
            return 0
        except RecoveryUnsupported as exc:
            logger.critical("%s", exc)
            return 2
        except (_Terminated, KeyboardInterrupt):
            if recovery is not None:
                recovery.stop()
            logger.info("stopped")
            return 0
        except Exception:
            logger.exception("Failed to start server")
            return 1
        finally:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def keep_store_open(store_type: str, store_path: str | None) -> Iterator[None]:
    """One idle connection to the sqlite store, so the store's own connections are never the last.

    The runner's SQLiteExecutionStore connects, writes or reads, and closes on
    every call (WAL mode, synchronous=NORMAL). Closing the last connection to
    a WAL database checkpoints it into the main file and deletes the WAL, so
    each checkpoint paid for a WAL round trip and an fsync. With this one open,
    SQLite checkpoints only when the WAL reaches its 1000-page threshold and
    when this connection closes at stop. What is durable is unchanged: a
    commit is in the WAL, which survives a crash of the process.
    """
    if store_type != "sqlite":
        yield
        return
    path = Path(store_path) if store_path else Path("durable-executions.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = sqlite3.connect(path, timeout=30.0)
    try:
        holder.execute("PRAGMA journal_mode=WAL;")  # as the store sets it: the mode is kept in the file
        # A read opens the WAL index; only a connection that has it open counts as one (checked: without it,
        # every close still deleted the WAL).
        holder.execute("SELECT count(*) FROM sqlite_master").fetchall()
        yield
    finally:
        holder.close()


def main(argv: list[str] | None = None) -> int:
    return RunnerApp().run(argv)


if __name__ == "__main__":
    sys.exit(main())
