"""A paid order delivered short with its rest kept for a back-order: the back-order is born
paid from the original payment, and what it does not deliver goes back on the rail the
original was paid on, once: all of it when the back-order is cancelled, the part that did not
arrive when it is delivered short. MTN MoMo, which cannot refund, keeps it as her credit and
she is told once. Across it all nothing is refunded or charged beyond what she paid for what
she got, on a balanced ledger. With the order workflows on or off."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.app.bootstrap import Services
from core.app.money import DISTRIBUTORS
from core.bus import EventEnvelope
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from engines.orders import Order, OrderStatus, RestPolicy
from engines.orders.events import OrderDelivered, OrderStatusChanged
from engines.payments import Direction, IntentStatus, Method
from tests.journeys.test_refunds import JUMA, NGOZI, held_at
from tests.journeys.test_returned_order_refunds import (
    TO_DISPATCHED,
    Client,
    about_her_money,
    books_balanced,
    refunds_of,
)
from tests.journeys.test_short_delivery_refunds import paid, paystack_settles
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

NOODLES = "NDL-INDO-CHK"


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture(params=["on", "off"])
def settings(request: pytest.FixtureRequest, database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url, temporal=request.param)


async def redelivered(services: Services, topic: str, reference: str) -> None:
    """The bus hands the order's last event of `topic` out again (delivery is at least once)."""
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    envelopes = [EventEnvelope.model_validate(r.envelope) for r in rows]
    mine = [e for e in envelopes if e.topic == topic and e.data["reference"] == reference]
    await services.bus.publish(mine[-1:])
    await flush_outbox(services)


async def shipped(services: Services, order: Order, arrived: int, rest: RestPolicy) -> Order:
    for status in [*TO_DISPATCHED, OrderStatus.DISPATCHED]:
        await services.orders.advance(order.reference, status)
    done = await services.orders.deliver(order.reference, {NOODLES: arrived}, rest=rest)
    await flush_outbox(services)
    await redelivered(services, OrderDelivered.topic, order.reference)
    return done


async def back_order_of(services: Services, order: Order) -> Order:
    mine = await services.orders.recent(order.customer)
    [back] = [o for o in mine if o.back_order_of == order.id]
    return back


async def cancelled(services: Services, back: Order) -> None:
    await services.orders.advance(back.reference, OrderStatus.CANCELLED)
    await flush_outbox(services)
    await redelivered(services, OrderStatusChanged.topic, back.reference)


async def test_a_cancelled_back_order_of_a_paystack_order_is_refunded_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, intent = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    arrived = await shipped(services, order, 2, RestPolicy.BACKORDER)
    back = await back_order_of(services, order)
    assert back.paid_at is not None  # born paid: nothing asked of her again
    assert [r.path for r in fakes.paystack.requests if r.path == "/refund"] == []

    await cancelled(services, back)

    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [(r["transaction"], r["amount"]) for r in sent] == [
        (intent.reference, int(back.total.amount * 100))
    ]
    await paystack_settles(gateway, services, fakes)
    [refund] = await refunds_of(services, order)
    assert (refund.status, refund.amount) == (IntentStatus.SUCCEEDED, back.total)
    assert await refunds_of(services, back) == []  # no payment of its own, none charged
    # what she paid is what arrived plus what came back to her (VAT rounded per part)
    assert abs(order.total.amount - arrived.total.amount - refund.amount.amount) <= 1
    assert await held_at(services, f"customer:{NGOZI.e164}:receivable:NGN") == (
        order.total.amount - arrived.total.amount - back.total.amount
    )
    assert await books_balanced(services)


async def test_a_back_order_delivered_short_refunds_what_did_not_arrive_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    order, intent = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    first = await shipped(services, order, 1, RestPolicy.BACKORDER)  # 1 of 3; 2 kept
    back = await back_order_of(services, order)
    second = await shipped(services, back, 1, RestPolicy.RELEASE)  # 1 of those 2

    assert services.money is not None
    [note] = await services.money.invoices.credit_notes(back.reference)
    told = [s.message for s in fakes.sms.sent_to(NGOZI.e164) if about_her_money(s.message)]
    assert told[-1].endswith(" It is being refunded to you.")
    assert note.number in told[-1]
    rest = order.total - first.total - second.total
    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [(r["transaction"], r["amount"]) for r in sent] == [
        (intent.reference, int(rest.amount * 100))
    ]
    await paystack_settles(gateway, services, fakes)
    [refund] = await refunds_of(services, order)
    assert (refund.status, refund.amount) == (IntentStatus.SUCCEEDED, rest)
    # she paid for 3, got 2 and was given back the third: nothing owed, nothing held
    assert await held_at(services, f"customer:{NGOZI.e164}:receivable:NGN") == 0
    assert await books_balanced(services)


@pytest.mark.parametrize(
    ("who", "told"),
    [
        (
            NGOZI,
            "OmniRoute: back-order {ref} will not be delivered. We could not send back the"
            " {amount} you paid for it, so it is kept as credit on your account.",
        ),
        (
            JUMA,
            "OmniRoute: oda ya baadaye {ref} haitaletwa. Hatukuweza kukurudishia {amount}"
            " ulizolipa, kwa hivyo zimewekwa kama salio kwenye akaunti yako.",
        ),
    ],
)
async def test_a_cancelled_back_order_of_a_momo_order_stays_her_credit_told_once(
    gateway: Client, services: Services, fakes: PaymentFakes, who: Phone, told: str
) -> None:
    order, _intent = await paid(gateway, services, fakes, Method.MOMO, who)
    arrived = await shipped(services, order, 2, RestPolicy.BACKORDER)
    back = await back_order_of(services, order)
    await cancelled(services, back)

    texts = [s.message for s in fakes.sms.sent_to(who.e164) if "back-order" in s.message]
    texts += [s.message for s in fakes.sms.sent_to(who.e164) if "oda ya baadaye" in s.message]
    assert texts == [told.format(ref=back.reference, amount=back.total.format())]
    assert len(texts[0]) <= 160
    assert services.payments is not None
    intents = await services.payments.for_order(order.reference)
    assert [i.direction for i in intents].count(Direction.COLLECT) == 1  # none charged again
    assert all(i.status is IntentStatus.FAILED for i in await refunds_of(services, order))
    currency = order.total.currency
    assert await held_at(services, f"customer:{who.e164}:receivable:{currency}") == -(
        order.total.amount - arrived.total.amount
    )
    assert await books_balanced(services)


async def test_a_back_order_delivered_then_returned_gives_back_what_came_back_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Both deliveries' goods are paid by the one payment; the back-order's carton brought
    back is refunded on it, once, and no more than it cost."""
    order, intent = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    await shipped(services, order, 2, RestPolicy.BACKORDER)
    back = await back_order_of(services, order)
    delivered = await shipped(services, back, 1, RestPolicy.RELEASE)  # all of it
    assert [r for r in fakes.paystack.requests if r.path == "/refund"] == []

    await services.orders.advance(back.reference, OrderStatus.RETURNED)
    await flush_outbox(services)
    await redelivered(services, OrderStatusChanged.topic, back.reference)

    sent = [r.json for r in fakes.paystack.requests if r.path == "/refund"]
    assert [(r["transaction"], r["amount"]) for r in sent] == [
        (intent.reference, int(delivered.total.amount * 100))
    ]
    await paystack_settles(gateway, services, fakes)
    [refund] = await refunds_of(services, order)
    assert (refund.status, refund.amount) == (IntentStatus.SUCCEEDED, delivered.total)
    assert await books_balanced(services)


async def test_a_back_orders_goods_are_settled_to_the_distributor_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """2 of her 3 cartons arrive, the third comes with the back-order: the distributor's day is
    settled on her one payment, once, not on the order's total and the back-order's again."""
    assert services.money is not None
    order, _ = await paid(gateway, services, fakes, Method.PAYSTACK, NGOZI)
    await shipped(services, order, 2, RestPolicy.BACKORDER)
    back = await back_order_of(services, order)
    await shipped(services, back, 1, RestPolicy.RELEASE)
    lagos = next(d for d in DISTRIBUTORS if d.currency == "NGN")
    day = services.clock.now().date()
    clock.advance(24 * 3600)  # the next night's run

    batch = await services.money.settlement.settle_day(lagos, day)

    assert (batch.payments, batch.gross) == (1, order.total)
    assert batch.refunds.amount == 0
    assert await held_at(services, f"customer:{NGOZI.e164}:receivable:NGN") == 0
    assert await books_balanced(services)
