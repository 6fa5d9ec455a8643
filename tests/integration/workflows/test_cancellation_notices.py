"""The customer's cancellation text names why the order was cancelled, in their language, in one
SMS: whoever cancelled it (the checkout's credit check, the reservation sweeper, an operator),
the workflow that unwinds it hears the reason with the status and says it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
from core.app.workflows import WorkflowRuntime, make_worker
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.gsm7 import gsm7_length
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.activities import FulfilmentActivities
from engines.fulfilment.gateway import TemporalFulfilment
from engines.fulfilment.model import CancelReason, Stage
from engines.fulfilment.workflows import OrderFulfilmentWorkflow
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.events import OrderStatusChanged
from tests.integration.workflows.conftest import start_fulfilment, texts_to, until_stage

pytestmark = [pytest.mark.real, pytest.mark.slow]

NGOZI = Phone("+2348030000001")  # English
JUMA = Phone("+254711000001")  # Swahili
NOODLES = "NDL-INDO-CHK"


async def place(services: Services, customer: Phone, method: PaymentMethod) -> Order:
    region = RegionCode.LAGOS if customer == NGOZI else RegionCode.NAIROBI
    return await services.orders.place(
        PlaceOrder(
            customer,
            region,
            (CartLine(NOODLES, 2),),
            method,
            uuid.uuid4().hex,
            clear_cart=False,
            reservation_ttl=timedelta(minutes=10) if method is PaymentMethod.MPESA else None,
        )
    )


def listening(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """The gateway's subscriber passes order status changes to the workflows (as `serve`)."""
    runtime = WorkflowRuntime(services.settings, activities)
    runtime._fulfilment = TemporalFulfilment(skipping.client, task_queue)
    services.bus.subscribe(OrderStatusChanged.topic, "test-workflows", runtime.on_status_changed)


async def cancelled_text(services: Services, customer: Phone) -> str:
    [text] = [t for t in await texts_to(services, customer) if "cancel" in t or "ghairi" in t]
    assert gsm7_length(text) <= 160, text
    return text


@pytest.mark.parametrize(
    ("customer", "words", "reason"),
    [
        (NGOZI, "is cancelled: your credit line could not carry it.", CancelReason.CREDIT_REFUSED),
        (JUMA, "imeghairiwa: mkopo wako haukuweza kuibeba.", CancelReason.CREDIT_REFUSED),
    ],
)
async def test_a_credit_checkout_cancelled_by_the_line_is_texted_as_credit_refused(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
    customer: Phone,
    words: str,
    reason: CancelReason,
) -> None:
    listening(services, skipping, activities, task_queue)
    order = await place(services, customer, PaymentMethod.ON_DELIVERY)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        # what checkout does when the credit line refuses the order it placed
        await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="credit")
        await services.relay.drain()
        result = await handle.result()

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, reason)
    assert f"{order.reference} {words}" in await cancelled_text(services, customer)


async def test_an_unpaid_hold_the_sweeper_lapsed_is_texted_as_no_payment_in_time(
    services: Services,
    clock: SteppedClock,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    listening(services, skipping, activities, task_queue)
    order = await place(services, JUMA, PaymentMethod.MPESA)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client, task_queue, order.reference, payment_window_seconds=3600
        )
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        clock.advance(timedelta(minutes=11).total_seconds())
        assert await services.orders.expire_reservations() == [order.reference]
        await services.relay.drain()
        result = await handle.result()

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.PAYMENT_EXPIRED)
    assert f"oda {order.reference} imeghairiwa: malipo hayakufika kwa wakati." in (
        await cancelled_text(services, JUMA)
    )


async def test_an_operator_cancelling_is_not_texted_as_the_customers_request(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    order = await place(services, NGOZI, PaymentMethod.ON_DELIVERY)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        # `temporal workflow signal --name cancel`: an operator, who gives no reason
        await handle.signal(OrderFulfilmentWorkflow.cancel)
        result = await handle.result()

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.OPERATOR)
    text = await cancelled_text(services, NGOZI)
    assert f"order {order.reference} is cancelled: our team stopped it." in text
    assert "as requested" not in text


@pytest.mark.parametrize(
    ("signalled", "written"), [(None, "operator"), ("customer", "customer"), ("failed", "failed")]
)
async def test_the_cancelled_event_names_why_the_workflow_cancelled(
    services: Services,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
    signalled: str | None,
    written: str,
) -> None:
    """The order's cancelled event (OrderStatusChanged, read by the workflows, the reports and
    the partners' consumers) said "unpaid" whoever cancelled it: an operator's or a customer's
    cancel read as a payment that never came. It names the reason the customer is told."""
    order = await place(services, NGOZI, PaymentMethod.ON_DELIVERY)
    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(skipping.client, task_queue, order.reference)
        await until_stage(handle, Stage.IN_WAVE)
        await handle.signal(OrderFulfilmentWorkflow.cancel, signalled)
        result = await handle.result()

    assert result.cancel_reason == CancelReason(written)
    async with services.db.transaction() as s:
        data = [
            row.envelope["data"]
            for row in await s.execute(
                select(outbox).where(outbox.c.topic == OrderStatusChanged.topic)
            )
        ]
    [cancelled] = [d for d in data if d["status"] == "cancelled"]
    assert cancelled["reason"] == written
