"""`make demo` in a fresh clone of HEAD: the only figure taken outside the bench's private stack."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from workshop import stack
from workshop.config import REPO_ROOT, stack_env
from workshop.tools.bench.report import Report

DEMO_DEADLINE_S = 420.0


def bench_demo(report: Report) -> None:
    """`make demo` in a fresh clone of HEAD on other ports; its stack stopped by its own `make down`."""
    with tempfile.TemporaryDirectory(prefix="workshop-bench-clone-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKSHOP_") and k not in ("VIRTUAL_ENV",)}
        # the clone's own state folder (.workshop/ in the clone), on free ports
        ports = stack_env(stack.private_config(clone / ".workshop"))
        ports.pop("WORKSHOP_STATE_DIR")
        env.update({**ports, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        make = ["make", "--no-print-directory", f"PYTHON={os.environ.get('PYTHON', 'python3')}"]
        started = time.perf_counter()
        try:
            demo = subprocess.run([*make, "demo"], cwd=clone, env=env, capture_output=True, text=True, timeout=DEMO_DEADLINE_S)
            seconds = time.perf_counter() - started
        except subprocess.TimeoutExpired:
            demo, seconds = None, None
        finally:
            subprocess.run([*make, "down"], cwd=clone, env=env, capture_output=True, text=True, timeout=120)
        if demo is None or demo.returncode != 0:
            tail = "\n".join(((demo.stdout + demo.stderr) if demo else "timed out").splitlines()[-15:])
            report.add("`make demo`, fresh clone, package cache warm", "failed")
            report.notes.append(f"make demo in the clone: {tail}")
            report.figure("demo_fresh_clone_s", None, "make demo failed in the clone (above)")
            return
        report.add("`make demo`, fresh clone, package cache warm (environments created, stack started, two orders)", f"{seconds:.0f} s")
        report.figure("demo_fresh_clone_s", seconds)
