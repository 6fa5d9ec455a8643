"""An order's run that cannot read its order (a worker on another database, an order deleted)
fails at its first step: nothing to unwind, so nothing is touched, but it fails loudly, an
error naming the order, not only the SDK's warning about one failed activity."""

from __future__ import annotations

import logging

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
from core.app.workflows import make_worker
from engines.fulfilment.activities import FulfilmentActivities
from tests.integration.workflows.conftest import available, place, start_fulfilment, texts_to

pytestmark = [pytest.mark.real, pytest.mark.slow]


async def test_a_run_whose_order_cannot_be_read_fails_with_an_error_naming_it(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    order = await place(services)  # Ngozi's order, stock held, in this database
    held = await available(services)
    caplog.set_level(logging.WARNING)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, "ORD-ELSEWHERE")
        with pytest.raises(WorkflowFailureError):
            await handle.result()

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("ORD-ELSEWHERE" in e and "could not be read" in e for e in errors), errors
    # nothing touched: her order and its stock stay as they were, no text sent
    assert (await services.orders.get(order.reference)).status == order.status
    assert await available(services) == held
    assert await texts_to(services) == []
