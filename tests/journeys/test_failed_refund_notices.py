"""A refund the rail took and later failed leaves the money as her credit: an unwound order's
(workflows off, or the workflow's own refund) and a second payment's are told too, in her
language, once however often the failure comes, as a short delivery's or a return's are; and
so are they when the payment came by MTN MoMo, which cannot refund at all (the cancellation's
own text then says kept as credit too, not refunded)."""

from __future__ import annotations

import pytest

from core.app.bootstrap import Services
from core.app.workflow_payments import IntentRail
from core.config import Settings
from core.region import RegionCode
from engines.fulfilment.adapters import PendingEngines
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.model import RefundRequest
from engines.fulfilment.workflows import order_workflow_id
from engines.orders import Order, OrderStatus
from engines.payments import CreatePayment, IntentStatus, Method, PaymentIntent
from tests.journeys.test_refunds import JSON, JUMA, NGOZI, paid_by_mpesa, place
from tests.journeys.test_returned_order_refunds import Client, about_her_money, refunds_of
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal="off")


async def reversal_fails_twice(gateway: Client, services: Services, fakes: PaymentFakes) -> None:
    [reversal] = fakes.daraja.reversals
    target, body = fakes.daraja.reversal_result(reversal, ok=False)
    for _ in range(2):  # Daraja's result delivered twice
        assert (await gateway.post(target, data=body, headers=JSON)).status == 200
        await flush_outbox(services)


def told(fakes: PaymentFakes) -> list[str]:
    return [s.message for s in fakes.sms.sent_to(JUMA.e164) if about_her_money(s.message)]


def kept(order: Order, amount: str) -> str:
    return (
        f"OmniRoute: oda {order.reference} haitaletwa. Hatukuweza kukurudishia {amount}"
        " ulizolipa, kwa hivyo zimewekwa kama salio kwenye akaunti yako."
    )


async def test_an_unwound_orders_failed_reversal_is_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await flush_outbox(services)

    await reversal_fails_twice(gateway, services, fakes)

    [refund] = await refunds_of(services, order)
    assert refund.status is IntentStatus.FAILED
    assert told(fakes) == [kept(order, refund.amount.format())]
    assert all(len(text) <= 160 for text in told(fakes))


async def test_the_workflows_failed_refund_is_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    assert services.refunds is not None
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    port = IntentRail(
        services.payments,
        PendingEngines(SqlEffectLog(services.db, services.clock), services.clock),
        services.refunds,
    )
    key = f"{order_workflow_id(order.reference)}:refund"  # the unwinding activity's key
    await port.refund(RefundRequest(order.reference, order.total), key=key)

    await reversal_fails_twice(gateway, services, fakes)

    [refund] = await refunds_of(services, order)
    assert refund.status is IntentStatus.FAILED
    assert told(fakes) == [kept(order, refund.amount.format())]


async def test_a_second_payments_failed_reversal_is_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.payments is not None
    order = await paid_by_mpesa(gateway, services, fakes, checkout=True)
    await services.payments.pay(  # Pay again, while the first was still unanswered
        CreatePayment(
            idempotency_key=f"order:{order.reference}:2",
            method=Method.MPESA,
            amount=order.total,
            customer=JUMA,
            order_reference=order.reference,
        )
    )
    target, body = fakes.daraja.pay(fakes.daraja.pushes[1])
    assert (await gateway.post(target, data=body, headers=JSON)).status == 200
    await flush_outbox(services)

    await reversal_fails_twice(gateway, services, fakes)

    [refund] = await refunds_of(services, order)
    assert refund.status is IntentStatus.FAILED
    assert told(fakes) == [
        f"OmniRoute: oda {order.reference} ililipwa mara mbili. Hatukuweza kukurudishia"
        f" {refund.amount.format()} za ziada, kwa hivyo zimewekwa kama salio kwenye akaunti"
        " yako."
    ]


async def paid_by_momo(
    gateway: Client, services: Services, fakes: PaymentFakes, order: Order, key: str
) -> PaymentIntent:
    """A MoMo payment of Ngozi's order, approved on her phone, its callback delivered twice."""
    assert services.payments is not None
    intent = await services.payments.pay(
        CreatePayment(
            idempotency_key=key,
            method=Method.MOMO,
            amount=order.total,
            customer=NGOZI,
            order_reference=order.reference,
        )
    )
    fakes.momo.approve(str(intent.id))
    target, body = fakes.momo.callback_for(str(intent.id))
    for _ in range(2):
        assert (await gateway.put(target, data=body)).status == 200
        await flush_outbox(services)
    return intent


def told_ngozi(fakes: PaymentFakes) -> list[str]:
    return [s.message for s in fakes.sms.sent_to(NGOZI.e164) if "credit" in s.message]


async def test_a_momo_paid_order_cancelled_is_told_its_money_is_kept_never_refunded(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await place(services, NGOZI, RegionCode.LAGOS, "unwound-momo")
    await paid_by_momo(gateway, services, fakes, order, f"order:{order.reference}")
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await flush_outbox(services)
    await flush_outbox(services)

    # the cancellation's own text says so too, not "refunded"
    assert told_ngozi(fakes) == [
        f"OmniRoute: order {order.reference} is cancelled: our team stopped it. The money you "
        "paid for it is kept as credit on your account.",
        f"OmniRoute: order {order.reference} will not be delivered. We could not send back the "
        f"{order.total.format()} you paid for it, so it is kept as credit on your account.",
    ]


async def test_a_momo_order_paid_twice_is_told_the_extra_is_kept_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order = await place(services, NGOZI, RegionCode.LAGOS, "double-momo")
    await paid_by_momo(gateway, services, fakes, order, f"order:{order.reference}")
    await paid_by_momo(gateway, services, fakes, order, f"order:{order.reference}:2")
    await flush_outbox(services)

    assert told_ngozi(fakes) == [
        f"OmniRoute: order {order.reference} was paid twice. We could not send back the extra "
        f"{order.total.format()}, so it is kept as credit on your account."
    ]


async def test_a_momo_order_paid_twice_then_cancelled_tells_each_payment_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Both payments stay her credit: one text for each, not a second one for the extra."""
    order = await place(services, NGOZI, RegionCode.LAGOS, "double-then-cancel-momo")
    await paid_by_momo(gateway, services, fakes, order, f"order:{order.reference}")
    await paid_by_momo(gateway, services, fakes, order, f"order:{order.reference}:2")
    await services.orders.advance(order.reference, OrderStatus.CANCELLED, reason="out of stock")
    await flush_outbox(services)
    await flush_outbox(services)

    assert told_ngozi(fakes) == [
        f"OmniRoute: order {order.reference} was paid twice. We could not send back the extra "
        f"{order.total.format()}, so it is kept as credit on your account.",
        f"OmniRoute: order {order.reference} is cancelled: our team stopped it. The money you "
        "paid for it is kept as credit on your account.",
        f"OmniRoute: order {order.reference} will not be delivered. We could not send back the "
        f"{order.total.format()} you paid for it, so it is kept as credit on your account.",
    ]
