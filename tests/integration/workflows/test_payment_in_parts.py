"""An order paid by bank transfer in parts whose rest never came: the workflow cancels it when
its window closes, and its text says what she sent is kept as her credit (no rail gives the
parts back), as her ledger account shows it — not that it is refunded."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from temporalio.testing import WorkflowEnvironment

from core.app.bootstrap import Services
from core.app.workflow_payments import PaymentSignals
from core.app.workflows import (
    SmsNotifier,
    WorkflowRuntime,
    fulfilment_activities,
    make_worker,
)
from core.config import Settings
from core.gsm7 import gsm7_length
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.activities import FulfilmentActivities
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.gateway import TemporalFulfilment
from engines.fulfilment.model import CancelReason, Stage
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments import CreatePayment, Method, PaymentIntent
from tests.integration.workflows.conftest import start_fulfilment, texts_to, until_stage
from tests.journeys.test_pay_again import JSON, checkout_by_mpesa
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

pytestmark = [pytest.mark.real, pytest.mark.slow]

Client = TestClient[web.Request, web.Application]
NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
DAY = 24 * 3600


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


@pytest.fixture
def activities(services: Services) -> FulfilmentActivities:
    """The activities as `serve` builds them: the rail and the notifier over the payments."""
    assert services.money is not None
    assert services.payments is not None
    notifier = SmsNotifier(
        services.notifications,
        services.customers,
        services.orders,
        services.translate,
        services.settings.sms_provider,
        payments=services.payments,
    )
    return fulfilment_activities(
        SqlEffectLog(services.db, services.clock),
        services.clock,
        services.orders,
        notifier,
        services.payments,
        settlement=services.money.settlement,
        refunds=services.refunds,
        gig=services.gig,
        credit=services.money.credit,
    )


async def bank_transfer_order(services: Services) -> tuple[Order, PaymentIntent]:
    """Ngozi's NGN order to pay by transfer into her own account, as the checkout makes it."""
    assert services.payments is not None
    order = await services.orders.place(
        PlaceOrder(
            customer=NGOZI,
            region=RegionCode.LAGOS,
            lines=(CartLine("NDL-INDO-CHK", 3),),
            payment_method=PaymentMethod.BANK_TRANSFER,
            idempotency_key=uuid.uuid4().hex,
            clear_cart=False,
        )
    )
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.BANK_TRANSFER,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    return order, intent


async def send(
    gateway: Client, services: Services, fakes: PaymentFakes, account: str, kobo: int
) -> None:
    """Her bank's transfer into her account: Paystack's charge.success, posted twice."""
    body, headers = fakes.paystack.transfer_to_account(account, kobo)
    for _ in range(2):
        response = await gateway.post("/webhooks/paystack", data=body, headers=headers)
        assert response.status == 200
    await flush_outbox(services)


async def test_an_order_paid_in_part_and_cancelled_says_what_she_sent_is_kept_as_credit(
    gateway: Client,
    services: Services,
    fakes: PaymentFakes,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    assert services.money is not None
    order, intent = await bank_transfer_order(services)
    account = intent.details["account_number"]
    await send(gateway, services, fakes, account, 1_000_000)
    await send(gateway, services, fakes, account, 500_000)

    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client,
            task_queue,
            order.reference,
            payment_method="BANK_TRANSFER",
            payment_window_seconds=DAY,
        )
        result = await handle.result()  # the day passes in skipped time; the rest never comes
    await flush_outbox(services)

    assert (result.stage, result.cancel_reason) == (Stage.CANCELLED, CancelReason.PAYMENT_EXPIRED)
    assert (await services.orders.get(order.reference)).status is OrderStatus.CANCELLED
    told = [t for t in await texts_to(services) if "cancelled" in t]
    assert told == [
        f"OmniRoute: order {order.reference} is cancelled: no payment arrived in time. The"
        " NGN 15,000.00 you sent for it is kept as credit on your account."
    ]
    assert gsm7_length(told[0]) <= 160
    # Her ledger account holds it as her credit: nothing of the order is owed, nothing refunded.
    mine = await services.money.ledger.account(f"customer:{NGOZI}:receivable:NGN")
    assert mine.balance == Money(Decimal("-15000.00"), "NGN")
    assert not fakes.paystack.refunds


async def test_an_order_part_paid_from_his_credit_goes_on_when_mpesa_brings_the_rest(
    gateway: Client,
    services: Services,
    fakes: PaymentFakes,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """KES 200 of Juma's account credit paid part of his KES 2,521.26 order (its hold took it)
    and M-Pesa was asked the rest, KES 2,322 (at checkout or by Pay again): once he pays it
    the order is paid and released, not refused as a short payment, refunded and cancelled."""
    assert services.money is not None
    assert services.payments is not None
    books = services.money.books
    await books.post_payment_received(JUMA, Money(Decimal(200), "KES"), "mpesa", "KEPT-JUMA")
    order = await services.orders.place(
        PlaceOrder(
            customer=JUMA,
            region=RegionCode.NAIROBI,
            lines=(CartLine("NDL-INDO-CHK", 3),),
            payment_method=PaymentMethod.MPESA,
            idempotency_key=uuid.uuid4().hex,
            clear_cart=False,
        )
    )
    part = Money(Decimal(200), "KES")
    await books.order_part_paid_from_credit(order.reference, JUMA, order.total, part)
    await services.payments.pay(
        CreatePayment(
            idempotency_key=f"order:{order.reference}",
            method=Method.MPESA,
            amount=order.total - part,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    runtime = WorkflowRuntime(services.settings, activities)  # as `serve` subscribes it
    runtime._fulfilment = TemporalFulfilment(skipping.client, task_queue)
    PaymentSignals(runtime, activities.ports.orders).subscribe(services.bus)

    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client, task_queue, order.reference, payment_method="MPESA"
        )
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        [push] = fakes.daraja.pushes
        assert push.body["Amount"] == 2322
        target, body = fakes.daraja.pay(push)
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
        await until_stage(handle, Stage.IN_WAVE)

    assert (await services.orders.get(order.reference)).status is not OrderStatus.CANCELLED
    assert fakes.daraja.reversals == []


async def test_an_order_pay_again_paid_from_his_credit_goes_on_at_once(
    gateway: Client,
    services: Services,
    fakes: PaymentFakes,
    skipping: WorkflowEnvironment,
    activities: FulfilmentActivities,
    task_queue: str,
) -> None:
    """Juma cancelled his M-Pesa prompt; KES 3,000 of his own then came to his account and Pay
    again paid the order from it: the order goes on to the warehouse at once, not after its
    15-minute payment window (no rail will say it was paid)."""
    assert services.money is not None
    juma = UssdPhone(gateway, JUMA.e164)
    order = await checkout_by_mpesa(juma, services)
    runtime = WorkflowRuntime(services.settings, activities)  # as `serve` subscribes it
    runtime._fulfilment = TemporalFulfilment(skipping.client, task_queue)
    PaymentSignals(runtime, activities.ports.orders).subscribe(services.bus)

    async with make_worker(skipping.client, task_queue, activities):
        handle = await start_fulfilment(
            skipping.client, task_queue, order.reference, payment_method="MPESA"
        )
        await until_stage(handle, Stage.AWAITING_PAYMENT)
        target, body = fakes.daraja.cancel(fakes.daraja.pushes[0])
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await services.money.books.post_payment_received(
            JUMA, Money(Decimal(3000), "KES"), "mpesa", "KEPT-JUMA"
        )
        await juma.dial()
        await juma.choose("Oda zangu")
        again = await juma.choose("tena")
        assert again.body.startswith(f"Oda {order.reference} imewekwa na kulipwa kwa salio")
        await flush_outbox(services)
        # well within the window: the time-skipping server moves no timer while we only ask
        await until_stage(handle, Stage.IN_WAVE, timeout=10)

    assert len(fakes.daraja.pushes) == 1
    assert fakes.daraja.reversals == []
