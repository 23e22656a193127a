"""Picking ports for private stacks: two processes picking at once never get the same one.

Found in CI: pytest workers start private stacks side by side; a port was
picked free by one worker and, before its stack bound it, picked and bound by
another's. Picks are now claimed (workshop.stack.ports.claim).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workshop.stack import ports


@pytest.fixture(autouse=True)
def claims_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(ports, "CLAIMS", tmp_path / "claims")
    return tmp_path / "claims"


def claim_in_another_process(port: int) -> subprocess.Popen[str]:
    """A live process holding a claim on `port` (until its stdin closes)."""
    code = (
        "import sys; from pathlib import Path; from workshop.stack import ports; "
        f"ports.CLAIMS = Path({str(ports.CLAIMS)!r}); print(ports.claim({port}), flush=True); sys.stdin.read()"
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdout.readline().strip() == "True"
    return other


def test_a_port_claimed_by_a_live_process_is_not_picked_until_it_ends() -> None:
    other = claim_in_another_process(23456)
    try:
        assert not ports.claim(23456)
    finally:
        assert other.stdin is not None
        other.stdin.close()
        other.wait(timeout=10)
    assert ports.claim(23456), "the claim of a process that ended is taken over"
    assert not ports.claim(23456), "this process's own claim holds too"


def test_a_private_stacks_ports_are_distinct_and_claimed_by_this_process(tmp_path: Path) -> None:
    config = ports.private_config(tmp_path / "state")
    picked = [config.emulator_port, config.runner_port, config.host_port, config.xray_port, config.explorer_port]
    assert len(set(picked)) == 5
    assert all(not ports.claim(port) for port in picked)
    assert sorted(int(path.name) for path in ports.CLAIMS.iterdir()) == sorted(picked)


def test_a_claim_left_half_written_or_too_old_is_stale(claims_here: Path) -> None:
    claims_here.mkdir()
    (claims_here / "24000").write_text("")  # a writer between create and write: not stale yet
    assert not ports.claim(24000)
    (claims_here / "24001").write_text("999999999")  # no such pid
    assert ports.claim(24001)


def test_a_process_removes_its_claims_when_it_exits(claims_here: Path) -> None:
    code = f"from pathlib import Path; from workshop.stack import ports; ports.CLAIMS = Path({str(claims_here)!r}); print(ports.claim(25000))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"
    assert not (claims_here / "25000").exists(), "the claim outlived its process"
