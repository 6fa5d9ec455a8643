"""An order paid from the credit kept on her account, then cancelled at her request while its
workflow runs: the workflow asks no rail for a refund (nothing was paid on one), the cancel puts
the whole total back on her account once, and she gets the usual cancellation text."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
from core.app.workflows import make_worker
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.activities import FulfilmentActivities
from engines.fulfilment.model import CancelReason, Stage
from engines.fulfilment.workflows import OrderFulfilmentWorkflow
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from tests.integration.workflows.conftest import start_fulfilment, until_stage
from tests.integration.workflows.test_cancellation_notices import cancelled_text, listening

pytestmark = [pytest.mark.real, pytest.mark.slow]

NGOZI = Phone("+2348030000001")


async def test_an_order_paid_from_her_credit_cancelled_gives_it_back_with_the_usual_text(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    assert services.money is not None
    books = services.money.books
    await books.post_payment_received(NGOZI, Money(Decimal(50000), "NGN"), "paystack", "KEPT-1")
    listening(services, skipping, activities, task_queue)
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 2),),
            PaymentMethod.ACCOUNT_CREDIT,
            uuid.uuid4().hex,
            clear_cart=False,
        )
    )
    await books.order_paid_from_credit(order.reference, NGOZI, order.total)
    await services.orders.paid_from_credit(order.reference)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)  # paid already: released without waiting
        await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="customer")
        await services.relay.drain()
        result = await handle.result()
    await services.relay.drain()

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.CUSTOMER)
    assert f"order {order.reference} is cancelled: as requested." in await cancelled_text(
        services, NGOZI
    )
    assert await books.account_credit(NGOZI, "NGN") == Money(Decimal(50000), "NGN")
    assert await books.ledger.transfers(codes=["refund"]) == []


async def test_an_order_to_pay_from_her_credit_left_unpaid_is_never_picked_and_is_cancelled(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """The checkout placed it and died before paying it from her credit (or her credit was
    short), and nobody retried: it waits for its money as a prepaid order does, never reaches
    the warehouse, and is cancelled when the payment window ends, stock back, with the text of
    a payment that did not arrive."""
    listening(services, skipping, activities, task_queue)
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 2),),
            PaymentMethod.ACCOUNT_CREDIT,
            uuid.uuid4().hex,
            clear_cart=False,
        )
    )
    await services.relay.drain()  # billed: no credit on her account, so no hold is taken
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client, task_queue, order.reference, payment_window_seconds=120
        )
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        result = await handle.result()
        status = await handle.query(OrderFulfilmentWorkflow.status)
    await services.relay.drain()

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.PAYMENT_EXPIRED)
    assert Stage.IN_WAVE not in [change.stage for change in status.history]
    assert (await services.orders.get(order.reference)).status is OrderStatus.CANCELLED
    assert f"order {order.reference} is cancelled: no payment arrived in time." in (
        await cancelled_text(services, NGOZI)
    )


async def test_an_order_paid_from_her_credit_after_its_workflow_started_is_released(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """The workflow may start before the checkout pays the order from her credit: it waits,
    and releases the order once paid, within the payment window."""
    assert services.money is not None
    books = services.money.books
    await books.post_payment_received(NGOZI, Money(Decimal(50000), "NGN"), "paystack", "KEPT-2")
    listening(services, skipping, activities, task_queue)
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 2),),
            PaymentMethod.ACCOUNT_CREDIT,
            uuid.uuid4().hex,
            clear_cart=False,
        )
    )
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        await books.order_paid_from_credit(order.reference, NGOZI, order.total)
        await services.orders.paid_from_credit(order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="customer")
        await services.relay.drain()
        result = await handle.result()

    assert result.cancel_reason is CancelReason.CUSTOMER  # released first, then cancelled
