"""A credit order's workflow draws the order on the retailer's credit line before the warehouse
may pick it; a line that cannot carry it unwinds the order (cancelled, stock back, a text)."""

from __future__ import annotations

import uuid

import pytest
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
from core.app.workflows import make_worker
from core.clock import SteppedClock
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.activities import FulfilmentActivities
from engines.fulfilment.model import CancelReason, FulfilmentInput, Stage
from engines.fulfilment.requests import DispatchStep, SqlDispatchRequests
from engines.fulfilment.workflows import OrderFulfilmentWorkflow, order_workflow_id
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from tests.integration.workflows.conftest import available, effects, texts_to, until_stage
from tests.support.credit import credit_history

pytestmark = [pytest.mark.real, pytest.mark.slow]

NGOZI = Phone("+2348030000001")
NEWCOMER = Phone("+2348030000444")  # no delivered orders: no credit line
NOODLES = "NDL-INDO-CHK"


async def on_credit(services: Services, customer: Phone) -> Order:
    return await services.orders.place(
        PlaceOrder(
            customer,
            RegionCode.LAGOS,
            (CartLine(NOODLES, 2),),
            PaymentMethod.CREDIT,
            uuid.uuid4().hex,
            clear_cart=False,
        )
    )


async def test_a_credit_order_is_drawn_on_the_line_then_released_to_the_warehouse(
    services: Services,
    clock: SteppedClock,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, NGOZI.e164)
    await credit.decide(NGOZI)
    before = await credit.available(NGOZI)
    order = await on_credit(services, NGOZI)

    async with make_worker(skipping.client, task_queue, activities):
        handle = await skipping.client.start_workflow(
            OrderFulfilmentWorkflow.run,
            FulfilmentInput(order.reference),
            id=order_workflow_id(order.reference),
            task_queue=task_queue,
        )
        await until_stage(handle, Stage.IN_WAVE)

    [drawn] = await credit.credits(NGOZI)
    assert drawn.order_reference == order.reference
    assert await credit.available(NGOZI) == before - order.total
    assert await SqlDispatchRequests(services.db).steps(order.reference) == [DispatchStep.WAVE]
    assert f"{order_workflow_id(order.reference)}:draw_credit" in await effects(services)


async def test_a_credit_order_the_line_refuses_is_cancelled_with_its_stock_released(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    stock = await available(services, NOODLES)
    order = await on_credit(services, NEWCOMER)
    assert await available(services, NOODLES) == stock - 2

    async with make_worker(skipping.client, task_queue, activities):
        result = await skipping.client.execute_workflow(
            OrderFulfilmentWorkflow.run,
            FulfilmentInput(order.reference),
            id=order_workflow_id(order.reference),
            task_queue=task_queue,
        )

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.CREDIT_REFUSED)
    assert (await services.orders.get(order.reference)).status is OrderStatus.CANCELLED
    assert await available(services, NOODLES) == stock
    assert await SqlDispatchRequests(services.db).steps(order.reference) == []
    assert any(
        "your credit line could not carry it" in t for t in await texts_to(services, NEWCOMER)
    )
