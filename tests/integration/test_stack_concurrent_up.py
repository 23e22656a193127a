"""Two `make up` at the same moment (two terminals, a lab and a test) start one stack."""

from __future__ import annotations

import threading

import pytest

from tests.integration.conftest import make_config
from workshop import stack

pytestmark = pytest.mark.live


def test_concurrent_up_starts_one_stack_and_down_stops_it(tmp_path):
    config = make_config(tmp_path)
    errors: list[BaseException] = []

    def bring_up() -> None:
        try:
            stack.up(config, say=lambda line: None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bring_up) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, f"a concurrent `up` failed: {errors!r}"
        assert stack.status(config, say=lambda line: None), "not every service is healthy after two concurrent ups"
        pids = {service.name: stack.running_pid(config, service) for service in stack.SERVICES}
        assert all(pids.values()), pids
    finally:
        stack.down(config, say=lambda line: None)
    assert not any(stack.running_pid(config, service) for service in stack.SERVICES)
