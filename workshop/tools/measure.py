"""`make measure`: how long `make up` takes to healthy, and what the idle stack weighs.

Prints figures; asserts nothing (targets on this machine: healthy in under
5 s, idle stack under 300 MB RSS). It uses a private stack on free ports and
a temporary state folder, so a learner's own stack is left alone.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from workshop import stack, system
from workshop.config import StackConfig, boto3_client
from workshop.host.pool import IDLE_WORKER_SECONDS


def stack_rss_mb(config: StackConfig) -> dict[str, float]:
    return {s.name: system.tree_rss_mb(pid) for s in stack.SERVICES if (pid := stack.running_pid(config, s))}


def run_one_order(config: StackConfig) -> None:
    """A happy-path order, so the saga's, payment's and warehouse's workers are warm."""
    lam = boto3_client("lambda", config)
    payload = {"order_id": "measure-1", "customer_id": "c-1", "items": [{"sku": "SKU-BOOK", "quantity": 1}],
               "amount": "1.00", "currency": "EUR"}  # fmt: skip
    response = lam.invoke(FunctionName="order-saga:live", Payload=json.dumps(payload).encode())
    if response.get("FunctionError"):
        raise SystemExit(f"the measuring order failed: {response['Payload'].read()!r}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="workshop-measure-") as state:
        config = stack.private_config(Path(state))
        started = time.monotonic()
        try:
            stack.up(config, say=lambda line: None)
            cold = time.monotonic() - started
            stack.down(config, say=lambda line: None)
            started = time.monotonic()
            stack.up(config, say=lambda line: None)  # second start: state on disk, as after `make down`
            warm = time.monotonic() - started
            time.sleep(1.0)  # let start-up allocations settle before reading RSS
            rss = stack_rss_mb(config)
            run_one_order(config)
            rss_warm = stack_rss_mb(config)
        finally:
            stack.down(config, say=lambda line: None)
    print(f"make up to healthy, empty state:      {cold:5.2f} s   (target < 5 s)")
    print(f"make up to healthy, existing state:   {warm:5.2f} s")
    for name, mb in rss.items():
        print(f"idle RSS {name:<28} {mb:6.1f} MB")
    print(f"idle RSS total:                       {sum(rss.values()):6.1f} MB (target < 300 MB)")
    print(f"RSS total after one order, warm workers kept: {sum(rss_warm.values()):6.1f} MB "
          f"(workers stop after {IDLE_WORKER_SECONDS:.0f} s idle)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
