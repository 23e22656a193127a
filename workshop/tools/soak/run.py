"""The soak's order of work: a private stack up, each part in turn, the stack down, the results out.

Why the ingest runs in real time and the rest scaled: the ingest's correctness
under crashes rests on a wall-clock deadline inside the function. A worker
killed inside the posting step leaves Powertools' INPROGRESS record, which
expires with the invocation's *real* deadline (30 s); the step's retries are
sized to outlast it (1+2+4+8+16 s). A scaled runner clock shrinks the retries,
not the lock: at x10 they ran out after about 3 s, the message came back
three times and went to the DLQ (found by this soak, 1000 messages: 5 lost at
x10, 0 at x1 with the same chaos). The saga's and the approval's timers are
all the runner's (waits, callback timeouts), so those parts run scaled.

Exit status 1 when any part counts something lost, duplicated or stuck, or a
fault could not be injected: CI fails on it, the figures are written anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop import stack
from workshop.config import REPO_ROOT
from workshop.runner.timescale import ENV_VAR as TIME_SCALE_SETTING
from workshop.tools.bench.machine import head_commit, machine
from workshop.tools.measure import stack_rss_mb
from workshop.tools.soak import hygiene
from workshop.tools.soak.approval import soak_approval
from workshop.tools.soak.chaos import Chaos, restart
from workshop.tools.soak.ingest import soak_ingest
from workshop.tools.soak.saga import soak_saga

SOAK_JSON = REPO_ROOT / "docs" / "soak.json"  # the full profile's figures, committed
INGEST_TIME_SCALE = 1  # the runner's clock for the ingest part: real time, see the docstring
_STACK_ENV = ("WORKSHOP_STATE_DIR", "WORKSHOP_EMULATOR_PORT", "WORKSHOP_RUNNER_PORT", "WORKSHOP_HOST_PORT", "WORKSHOP_XRAY_PORT", "WORKSHOP_EXPLORER_PORT")


@dataclass(frozen=True)
class Profile:
    name: str
    messages: int
    orders: int
    approvals: int
    time_scale: float  # WORKSHOP_TIME_SCALE of the soak's runner for the saga and the approval (the ingest runs at 1)
    duplicate_spread_s: float  # a duplicate is sent up to this long after its record's first copy
    kill_every_s: float
    deadline_s: float  # per part


PROFILES = {
    "full": Profile("full", messages=10_000, orders=500, approvals=200, time_scale=10, duplicate_spread_s=600, kill_every_s=4.0, deadline_s=3600),
    "short": Profile("short", messages=1_000, orders=50, approvals=30, time_scale=10, duplicate_spread_s=60, kill_every_s=3.0, deadline_s=400),
}


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class PeakRss:
    """The stack's RSS (every service and the host's workers), sampled whenever asked; the peak kept."""

    def __init__(self, config: Any) -> None:
        self.config, self.peak_mb = config, 0.0

    def sample(self) -> float:
        self.peak_mb = max(self.peak_mb, sum(stack_rss_mb(self.config).values()))
        return self.peak_mb


def run(profile: Profile) -> dict[str, Any]:
    for key in _STACK_ENV:
        os.environ.pop(key, None)  # the private stack's config is passed explicitly
    os.environ[TIME_SCALE_SETTING] = str(INGEST_TIME_SCALE)  # read by the runner when it starts (and when the chaos loop restarts it)
    results: dict[str, Any] = {"profile": profile.name, "time_scale": profile.time_scale, "duplicate_spread_s": profile.duplicate_spread_s}
    with tempfile.TemporaryDirectory(prefix="workshop-soak-") as state:
        config = stack.private_config(Path(state))
        rss = PeakRss(config)
        try:
            say(f"soak ({profile.name}): private stack up...")
            stack.up(config, say=lambda line: None)
            rss.sample()

            def chaos(progress: Any) -> Chaos:
                def sampled() -> float:
                    rss.sample()
                    return progress()

                return Chaos(config, sampled, kill_every_s=profile.kill_every_s)

            say(f"ingest: {profile.messages:,} messages under chaos, runner clock x{INGEST_TIME_SCALE:g}...")
            results["ingest"] = soak_ingest(config, profile.messages, profile.duplicate_spread_s, chaos, profile.deadline_s, say)
            rss.sample()
            say(f"runner restarted with its clock x{profile.time_scale:g}...")
            os.environ[TIME_SCALE_SETTING] = str(profile.time_scale)
            restart(config, "runner")
            say(f"order saga: {profile.orders:,} orders at once, failures and callbacks at random...")
            results["saga"] = soak_saga(config, profile.orders, profile.time_scale, profile.deadline_s)
            rss.sample()
            say(f"approval wait: {profile.approvals:,} requests at once, the threshold raised mid-wait...")
            results["approval"] = soak_approval(config, profile.approvals, profile.time_scale, profile.deadline_s)
            rss.sample()
        finally:
            left = hygiene.before_down(config)
            stack.down(config, say=lambda line: None)
            results["hygiene"] = hygiene.after_down(config, left)
    results["hygiene"]["temp_folder_left"] = Path(state).exists()
    results["peak_rss_mb"] = round(rss.peak_mb, 1)
    return results


def totals(results: dict[str, Any]) -> dict[str, int]:
    parts = [results[p] for p in ("ingest", "saga", "approval") if isinstance(results.get(p), dict)]
    return {key: sum(int(part.get(key, 0)) for part in parts) for key in ("lost", "duplicated", "stuck")}


def _latency(part: dict[str, Any]) -> str:
    return f"{part['latency_p50_s']} s / {part['latency_p99_s']} s"


def _counted(total: int, outcomes: dict[str, int]) -> str:
    return f"{total:,} ({', '.join(f'{name} {n}' for name, n in sorted(outcomes.items()))})"


def render(results: dict[str, Any]) -> str:
    rows = [("figure", "value")]
    ingest = results.get("ingest") or {}
    if ingest:
        rows += [
            ("ingest messages (unique / duplicates / malformed)", f"{ingest['messages']:,} ({ingest['unique_records']:,} / {ingest['duplicates']:,} / {ingest['malformed']:,})"),
            ("ingest sustained", f"{ingest['messages_per_s']} messages/s ({ingest['seconds']} s)"),
            ("ingest end-to-end latency p50 / p99", _latency(ingest)),
            ("chaos: workers killed, restarts", f"{ingest['chaos']['workers_killed']}, {ingest['chaos']['restarts_s'] or 'none'}"),
        ]  # fmt: skip
    saga = results.get("saga") or {}
    if saga:
        rows += [
            ("saga orders (outcomes)", _counted(saga["orders"], saga["outcomes"])),
            ("saga sustained", f"{saga['orders_per_s']} orders/s ({saga['seconds']} s)"),
            ("saga end-to-end latency p50 / p99", _latency(saga)),
            ("saga callbacks answered / too late / never", f"{saga['callbacks']['answered']} / {saga['callbacks']['answered_late']} / {saga['callbacks']['never']}"),
        ]  # fmt: skip
    approval = results.get("approval") or {}
    if approval:
        plans, answers = approval["plans"], approval["answers"]
        rows += [
            ("approval requests (outcomes)", _counted(approval["requests"], approval["outcomes"])),
            ("approval sustained", f"{approval['requests_per_s']} requests/s ({approval['seconds']} s)"),
            ("approval end-to-end latency p50 / p99", _latency(approval)),
            ("approval plans answered / escalated / timed out", f"{plans['answered']} / {plans['escalated']} / {plans['never']} (and {plans['below']} below the threshold)"),
            ("approval threshold raised", f"{approval['threshold_before']} -> {approval['threshold_after']} after {approval['threshold_changed_after_s']} s"
                                          f" ({'mid-wait' if approval['threshold_changed_mid_wait'] else 'NOT mid-wait'})"),
            ("approval signing token found", f"in {len(approval['detail']['token_leaks'])} places (of {approval['token_scan']['files']} files, "
                                             f"{approval['token_scan']['histories']} histories and results)"),
        ]  # fmt: skip
        if answers["refused"]:
            rows.append(("approval answers refused", str(answers["refused"])))
    rows.append(("stack peak RSS", f"{results['peak_rss_mb']:.0f} MB"))
    left = results["hygiene"]
    rows.append(("state folder before down (segments.jsonl, logs, runner store)",
                 f"{left['state_mb']} MB ({left['segments_jsonl_mb']} / {left['logs_mb']} / {left['runner_store_mb']} MB)"))  # fmt: skip
    rows.append(("lost wake-ups the runner's stall guard repaired", str(left["stall_guard_repairs"])))
    rows.append(("left after down (processes, ports, open files, temp folder)",
                 f"{left['processes_left'] or 0}, {left['ports_left'] or 0}, {left['open_files_left'] or 0}, {left['temp_folder_left']}"))  # fmt: skip
    counts = totals(results)
    rows += [("lost", str(counts["lost"])), ("duplicated", str(counts["duplicated"])), ("stuck", str(counts["stuck"]))]
    width = max(len(r[0]) for r in rows)
    lines = [f"soak, profile {results['profile']} (ingest in real time, saga and approval x{results['time_scale']:g}), {results['wall_s']:.0f} s"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


def failures(results: dict[str, Any]) -> list[str]:
    found = [f"{key}: {n}" for key, n in totals(results).items() if n]
    left = results.get("hygiene", {})
    found += [f"left after down: {key} {left[key]}" for key in ("processes_left", "ports_left", "open_files_left", "temp_folder_left") if left.get(key)]
    chaos = (results.get("ingest") or {}).get("chaos", {})
    found += [f"restart not done: {name}" for name in chaos.get("restarts_missed", [])]
    found += [f"chaos error: {e}" for e in chaos.get("errors", [])]
    return found


def results_path(profile: Profile) -> Path:
    """docs/soak.json holds the full profile's figures (committed); any other run writes beside the main stack's state."""
    if profile == PROFILES["full"]:
        return SOAK_JSON
    return REPO_ROOT / ".workshop" / f"soak-{profile.name}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.tools.soak", description="Soak the stack: load, chaos, invariants.")
    parser.add_argument("--profile", choices=sorted(PROFILES), default=os.environ.get("SOAK") or "full")
    parser.add_argument("--messages", type=int, help="override the profile's ingest messages (a quick look while developing)")
    parser.add_argument("--orders", type=int, help="override the profile's saga orders")
    parser.add_argument("--approvals", type=int, help="override the profile's approval requests")
    parser.add_argument("--no-write", action="store_true", help="print only; write no results file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    profile = PROFILES[args.profile]
    overrides = {k: v for k, v in (("messages", args.messages), ("orders", args.orders), ("approvals", args.approvals)) if v is not None}
    profile = Profile(**{**profile.__dict__, **overrides})
    results = run(profile)
    results["wall_s"] = round(time.monotonic() - started, 1)
    results["totals"] = totals(results)
    results["machine"], results["commit"] = machine(), head_commit()
    print(render(results))
    if not args.no_write:
        path = results_path(profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"written to {path.relative_to(REPO_ROOT)}")
    problems = failures(results)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0
