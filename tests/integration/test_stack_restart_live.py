"""`make down` / `make up` while an order waits for the warehouse: it completes afterwards.

Executions live in the runner's sqlite store and the emulator saves its state
on a graceful stop, so a learner can close the laptop mid-lab.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.polling import finished, result_of, wait_for
from tests.integration.test_order_saga_live import order, pending_callback, start
from workshop import stack
from workshop.config import StackConfig, boto3_client

pytestmark = pytest.mark.live


def test_order_waiting_on_a_callback_survives_down_and_up(live_stack: StackConfig):
    lam = boto3_client("lambda", live_stack)
    arn = start(lam, order(warehouse="manual"))
    callback_id = wait_for(lambda: pending_callback(lam, arn), "the saga to wait on the warehouse callback")

    stack.down(live_stack, say=lambda line: None)
    assert not any(stack.running_pid(live_stack, service) for service in stack.SERVICES)
    stack.up(live_stack, say=lambda line: None)

    lam = boto3_client("lambda", live_stack)
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"
    assert pending_callback(lam, arn) == callback_id
    lam.send_durable_execution_callback_success(CallbackId=callback_id, Result=json.dumps({"shipment_id": "ship-after-restart"}).encode())
    result = result_of(finished(lam, arn))
    assert result["status"] == "COMPLETED"
