"""Recorded histories replay on today's code: a change that would break runs in flight fails here.

`histories/*_v1.json` were recorded before the out-for-delivery notice existed, `*_v2.json`
after it (behind `workflow.patched`), `payment_paid_early_v3.json` after a payment already made
stopped starting a charge (`no-charge-when-already-paid`); `payment_paid_early_v2.json`, from
before, still charges on replay. Record new ones with
`python -m tests.integration.workflows.record_histories vN` when a release changes a workflow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.app.workflows import SANDBOX, load_money_data
from engines.fulfilment.workflows import WORKFLOWS

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


def test_each_patch_has_a_history_from_before_it_and_one_after_it() -> None:
    def patched(name: str) -> bool:
        return "core_patch" in RECORDED[name]  # Temporal's marker for workflow.patched

    assert not patched("order_delivered_v1")
    assert patched("order_delivered_v2")
    assert not patched("payment_paid_early_v2")
    assert patched("payment_paid_early_v3")
