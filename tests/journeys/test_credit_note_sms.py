"""A credit note for goods that did not arrive or came back is texted to the retailer, in her
language, naming the note, the invoice it corrects and the amount: once per note, however often
its event comes; on WhatsApp when she ordered there and her window is open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from core.app.bootstrap import Services
from core.bus import EventEnvelope
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.invoices import CreditNote, CreditReason
from engines.orders import CartLine, Order, OrderStatus, PaymentMethod, PlaceOrder
from engines.orders.events import OrderDelivered, OrderStatusChanged
from tests.support.credit import credit_history
from tests.support.providers.africastalking import SHORTCODE, FakeAfricasTalking, flush_outbox
from tests.support.providers.meta import FakeGraphApi, WhatsAppUser

NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
TO_DISPATCHED = [
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


async def short_delivered(services: Services, reference: str) -> None:
    """2 of its 3 cartons arrive."""
    for status in TO_DISPATCHED:
        await services.orders.advance(reference, status)
    await services.orders.deliver(reference, {"NDL-INDO-CHK": 2})
    await flush_outbox(services)


async def notes(services: Services, reference: str) -> dict[CreditReason, CreditNote]:
    assert services.money is not None
    return {n.reason: n for n in await services.money.invoices.credit_notes(reference)}


async def redelivered(services: Services, reference: str) -> None:
    """The bus hands the order's delivery and return out again (delivery is at least once)."""
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    again = [
        e
        for e in (EventEnvelope.model_validate(r.envelope) for r in rows)
        if e.topic in (OrderDelivered.topic, OrderStatusChanged.topic)
        and e.data["reference"] == reference
    ]
    await services.bus.publish(again)
    await flush_outbox(services)


async def ordered(services: Services, who: Phone, region: RegionCode, key: str) -> Order:
    order = await services.orders.place(
        PlaceOrder(who, region, (CartLine("NDL-INDO-CHK", 3),), PaymentMethod.ON_DELIVERY, key)
    )
    await flush_outbox(services)
    return order


async def test_a_short_delivery_and_a_return_each_text_their_credit_note_once(
    services: Services, fake_at: FakeAfricasTalking
) -> None:
    assert services.money is not None
    order = await ordered(services, NGOZI, RegionCode.LAGOS, "cn-sms-1")
    invoice = await services.money.invoices.for_order(order.reference)
    assert invoice is not None
    await short_delivered(services, order.reference)
    await services.orders.advance(order.reference, OrderStatus.RETURNED)
    await flush_outbox(services)
    await redelivered(services, order.reference)

    short, back = (await notes(services, order.reference)).values()
    told = [s.message for s in fake_at.sent_to(NGOZI.e164) if "Credit note" in s.message]
    # what did not arrive she never paid for; what came back she paid in cash at the door
    assert told == [
        f"Credit note {note.number} for order {order.reference} (invoice {invoice.number}): "
        f"{note.total.format()} credited incl. VAT 7.5% {note.tax.format()}.{kept}"
        for note, kept in ((short, ""), (back, " Kept as credit on your account."))
    ]
    assert all(len(text) <= 160 for text in told)


async def test_a_swahili_speakers_credit_note_is_texted_in_swahili(
    services: Services, fake_at: FakeAfricasTalking
) -> None:
    order = await ordered(services, JUMA, RegionCode.NAIROBI, "cn-sms-sw")
    await short_delivered(services, order.reference)

    [short] = (await notes(services, order.reference)).values()
    [told] = [s.message for s in fake_at.sent_to(JUMA.e164) if short.number in s.message]
    assert told.startswith(f"Hati ya marejesho {short.number} ya oda {order.reference} (ankara ")
    assert short.total.format() in told


async def test_a_full_delivery_texts_no_credit_note(
    services: Services, fake_at: FakeAfricasTalking
) -> None:
    order = await ordered(services, NGOZI, RegionCode.LAGOS, "cn-sms-full")
    for status in TO_DISPATCHED:
        await services.orders.advance(order.reference, status)
    await services.orders.deliver(order.reference)
    await flush_outbox(services)
    assert [s for s in fake_at.sent_to(NGOZI.e164) if "Credit note" in s.message] == []


class TestWhatsApp:
    @pytest.fixture
    async def fake_graph(self) -> AsyncIterator[FakeGraphApi]:
        fake = FakeGraphApi()
        await fake.start()
        yield fake
        await fake.close()

    @pytest.fixture
    def settings(
        self, database_url: str, fake_graph: FakeGraphApi, fake_at: FakeAfricasTalking
    ) -> Settings:
        return fake_graph.settings(
            database_url,
            africastalking_base_url=fake_at.url,
            africastalking_username=fake_at.username,
            africastalking_api_key=SecretStr(fake_at.api_key),
            africastalking_sender_id=SHORTCODE,
        )

    async def test_a_whatsapp_order_gets_its_credit_note_on_whatsapp(
        self,
        client: TestClient[Any, Any],
        services: Services,
        fake_graph: FakeGraphApi,
        fake_at: FakeAfricasTalking,
        clock: SteppedClock,
    ) -> None:
        await services.delivery.stop()  # the test sends the outbox itself
        ngozi = WhatsAppUser(
            client,
            fake_graph,
            flush=services.delivery.send_due,
            now=lambda: int(clock.now().timestamp()),
            number=NGOZI.e164,
        )
        await ngozi.say("hi")
        for label in ("Shop", "Noodles", "Indomie Chicken"):
            await ngozi.tap(label)
        await ngozi.say("3")
        for label in ("Checkout", "Choose payment", "Pay on delivery", "Confirm"):
            await ngozi.tap(label)
        [order] = await services.orders.recent(NGOZI)
        await flush_outbox(services)

        await short_delivered(services, order.reference)

        [short] = (await notes(services, order.reference)).values()
        [told] = [m for m in fake_graph.sent_to(ngozi.wa_id) if short.number in (m.text or "")]
        assert told.type == "text"
        assert [s for s in fake_at.sent_to(NGOZI.e164) if short.number in s.message] == []

    async def test_her_credit_paying_a_whatsapp_orders_debt_is_receipted_on_whatsapp(
        self, services: Services, clock: SteppedClock
    ) -> None:
        """Ngozi bought on credit on WhatsApp, where her order's notices come; the receipt of
        her kept money paying that debt always came by SMS. It now goes as her order's notices
        do: on WhatsApp (by SMS if her window has closed when it falls due), one message."""
        assert services.money is not None
        money = services.money
        await credit_history(services, clock, NGOZI.e164)
        await money.credit.decide(NGOZI)
        await services.notifications.record_inbound("meta", NGOZI)  # she wrote on WhatsApp
        order = await services.orders.place(
            PlaceOrder(
                NGOZI,
                RegionCode.LAGOS,
                (CartLine("NDL-INDO-CHK", 3),),
                PaymentMethod.CREDIT,
                f"whatsapp:{NGOZI.e164}:credit-1",  # as the WhatsApp dialog keys it
            )
        )
        await flush_outbox(services)
        await money.books.post_payment_received(
            NGOZI, Money(Decimal(5_000), "NGN"), "paystack", "KEPT-WA"
        )

        await money.credit.spend_account_credit(NGOZI, "NGN")

        [receipt] = [
            d
            for d in await services.notifications.for_recipient(NGOZI)
            if d.dedupe_key.startswith("credit-account_credit:")
        ]
        assert (receipt.kind, receipt.provider) == ("whatsapp", "meta")
        assert receipt.payload["sms_fallback"] == "africastalking"
        [owed] = [
            c for c in await money.credit.credits(NGOZI) if c.order_reference == order.reference
        ]
        assert owed.outstanding == order.total - Money(Decimal(5_000), "NGN")
