"""Recorded histories replay on today's code: a change that would break runs in flight fails here.

`histories/*_v1.json` were recorded before the out-for-delivery notice existed, `*_v2.json`
after it (behind `workflow.patched`), `payment_paid_early_v3.json` after a payment already made
stopped starting a charge (`no-charge-when-already-paid`); `payment_paid_early_v2.json`, from
before, still charges on replay. `*_v4.json` were recorded after an M-Pesa payment rounded up
to the shilling was accepted (`accept-rounded-up-payment`) and credit orders were drawn on the
line by the workflow (`draw-credit-before-release`); `payment_rounded_up_v3.json` (refused) and
`order_credit_unchecked_v3.json` (no draw) come from the code before each, and replay as they
ran. `order_returned_v5.json` was recorded after a paid order brought back out of delivery
was refunded and ended returned (`take-back-returned-goods`); `order_return_unheard_v4.json`,
from before, was told "returned" and still waited to be delivered, and replays so.
`order_redispatched_v6.json` was recorded after an order recalled and dispatched again was told
it is on its way again (`notify-each-dispatch`); `order_redispatched_v5.json`, from before, was
told once; `order_redispatched_v7.json` after dispatches heard together were each told in turn
(`notify-dispatches-in-turn`), v6 from before. Record new ones with
`python -m tests.integration.workflows.record_histories vN` when a release changes a workflow
(and keep only the files that add a case).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.app.workflows import SANDBOX, load_money_data
from engines.fulfilment.workflows import (
    CREDIT_CHECKED,
    GOODS_RETURNED,
    NO_CHARGE_WHEN_PAID,
    NOTICE_DISPATCHES_IN_TURN,
    NOTICE_EACH_DISPATCH,
    OUT_FOR_DELIVERY_NOTICE,
    OVERPAYMENT_ACCEPTED,
    WORKFLOWS,
)

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
RECORDED = {path.stem: path.read_text() for path in HISTORIES}


@pytest.mark.parametrize("name", sorted(RECORDED))
async def test_recorded_runs_replay_on_the_current_workflow_code(name: str) -> None:
    load_money_data()
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=SANDBOX
    )
    history = WorkflowHistory.from_json(name, RECORDED[name])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


def patches(name: str) -> set[str]:
    """The patch ids a history's `workflow.patched` markers carry (Temporal's `core_patch`)."""
    found = set()
    for event in json.loads(RECORDED[name])["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker is not None and marker["markerName"] == "core_patch":
            payload = marker["details"]["patch-data"]["payloads"][0]["data"]
            found.add(json.loads(base64.b64decode(payload))["id"])
    return found


def test_each_patch_has_a_history_from_before_it_and_one_after_it() -> None:
    assert OUT_FOR_DELIVERY_NOTICE not in patches("order_delivered_v1")
    assert OUT_FOR_DELIVERY_NOTICE in patches("order_delivered_v2")
    assert NO_CHARGE_WHEN_PAID not in patches("payment_paid_early_v2")
    assert NO_CHARGE_WHEN_PAID in patches("payment_paid_early_v3")
    assert OVERPAYMENT_ACCEPTED not in patches("payment_rounded_up_v3")  # refused then
    assert OVERPAYMENT_ACCEPTED in patches("payment_rounded_up_v4")  # paid since
    assert CREDIT_CHECKED not in patches("order_credit_unchecked_v3")
    assert CREDIT_CHECKED in patches("order_credit_drawn_v4")
    assert CREDIT_CHECKED in patches("order_credit_refused_v4")
    assert GOODS_RETURNED not in patches("order_return_unheard_v4")  # waited, then delivered
    assert GOODS_RETURNED in patches("order_returned_v5")
    assert NOTICE_EACH_DISPATCH not in patches("order_redispatched_v5")  # told once
    assert NOTICE_EACH_DISPATCH in patches("order_redispatched_v6")  # told each dispatch
    assert NOTICE_DISPATCHES_IN_TURN not in patches("order_redispatched_v6")  # the latest told
    assert NOTICE_DISPATCHES_IN_TURN in patches("order_redispatched_v7")  # each told in turn
