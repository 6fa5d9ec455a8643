"""A retailer who orders on WhatsApp hears where her order is on WhatsApp, on the provider she
wrote from (Meta or Twilio), while the 24-hour window is open; by SMS once it has closed, since
these notices have no approved template. An order placed on USSD is still told by SMS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from core.app.bootstrap import Services
from core.app.workflows import SmsNotifier, whatsapp_senders
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from engines.fulfilment.model import CustomerNotice, NoticeKind
from engines.notifications import DeliveryStatus
from tests.support.phone import UssdPhone
from tests.support.ports import free_port
from tests.support.providers.africastalking import SHORTCODE, FakeAfricasTalking
from tests.support.providers.meta import FakeGraphApi, WhatsAppUser, status_body, webhook_headers
from tests.support.providers.twilio import FakeTwilio, TwilioChat, twilio_gateway

NGOZI = Phone("+2348030000001")
DAY = 24 * 3600


def notifier(services: Services) -> SmsNotifier:
    """What the order workflow's notice activity calls (`core/app/workflows.py`)."""
    return SmsNotifier(
        services.notifications,
        services.customers,
        services.orders,
        services.translate,
        services.settings.sms_provider,
        whatsapp=whatsapp_senders(services.settings),
    )


async def placed(services: Services, customer: Phone) -> str:
    """Her order, its confirmation sent (the relay publishes its event in the background)."""
    [order] = await services.orders.recent(customer)
    await services.relay.drain()
    await services.delivery.send_due()
    return order.reference


async def tell(services: Services, reference: str, kind: NoticeKind) -> None:
    notice = CustomerNotice(reference, kind)
    assert await notifier(services).notify(notice, key=f"order-{reference}:notify:{kind.value}")
    await services.delivery.send_due()


class TestMeta:
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

    async def test_a_whatsapp_order_is_told_on_whatsapp_then_by_sms_once_the_window_closed(
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
        reference = await placed(services, NGOZI)
        texted = len(fake_at.sent_to(NGOZI.e164))  # the order's SMS confirmation

        await tell(services, reference, NoticeKind.OUT_FOR_DELIVERY)
        on_its_way = fake_graph.sent_to(ngozi.wa_id)[-1]
        assert (on_its_way.type, on_its_way.text) == (
            "text",
            f"OmniRoute: order {reference} is on its way to you.",
        )
        assert len(fake_at.sent_to(NGOZI.e164)) == texted

        clock.advance(DAY + 60)  # she has not written since: the window closed
        sent = len(fake_graph.sent)
        await tell(services, reference, NoticeKind.DELIVERED)
        assert len(fake_graph.sent) == sent
        assert fake_at.sent_to(NGOZI.e164)[-1].message == (
            f"OmniRoute: order {reference} is delivered. Thank you!"
        )
        delivered = (await services.notifications.for_recipient(NGOZI))[-1]
        assert (delivered.provider, delivered.kind, delivered.status) == (
            "africastalking",
            "sms",
            DeliveryStatus.SENT,
        )

    async def test_a_notice_whatsapp_reports_failed_is_texted_instead(
        self,
        client: TestClient[Any, Any],
        services: Services,
        fake_graph: FakeGraphApi,
        fake_at: FakeAfricasTalking,
        clock: SteppedClock,
    ) -> None:
        """Meta took the notice, then posted its status `failed` (131047: by its count her
        window had closed). She was never told her order was on its way; it now goes by SMS,
        as a notice does when the window has closed, once however often Meta says so."""
        await services.delivery.stop()
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
        reference = await placed(services, NGOZI)
        texted = len(fake_at.sent_to(NGOZI.e164))
        await tell(services, reference, NoticeKind.OUT_FOR_DELIVERY)
        on_its_way = fake_graph.sent_to(ngozi.wa_id)[-1]
        assert on_its_way.text == f"OmniRoute: order {reference} is on its way to you."

        failed = [{"code": 131047, "title": "Re-engagement message"}]
        body = status_body(
            on_its_way.id, "failed", recipient=ngozi.wa_id, timestamp=ngozi.now(), errors=failed
        )
        for _ in range(2):  # Meta may post a status twice
            response = await client.post(
                "/channels/meta/whatsapp", data=body, headers=webhook_headers(body)
            )
            assert response.status == 200
            await services.delivery.send_due()

        assert [m.message for m in fake_at.sent_to(NGOZI.e164)[texted:]] == [
            f"OmniRoute: order {reference} is on its way to you."
        ]
        told = (await services.notifications.for_recipient(NGOZI))[-1]
        assert (told.provider, told.kind, told.status) == (
            "africastalking",
            "sms",
            DeliveryStatus.SENT,
        )

    @pytest.mark.parametrize(
        ("code", "title", "details"),
        [
            (
                131047,
                "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the"
                " customer last replied to this number.",
            ),
            (131026, "Message Undeliverable", "Message Undeliverable."),
        ],
    )
    async def test_a_notice_whatsapp_refuses_when_sent_is_texted_instead(
        self,
        client: TestClient[Any, Any],
        services: Services,
        fake_graph: FakeGraphApi,
        fake_at: FakeAfricasTalking,
        clock: SteppedClock,
        code: int,
        title: str,
        details: str,
    ) -> None:
        """The Graph API refused the notice outright (HTTP 400 with Meta's error: 131047, by
        its count her window had closed; 131026, undeliverable). It was marked failed and she
        was never told her order was on its way; it now goes by SMS once, as when Meta
        reports the failure later."""
        await services.delivery.stop()
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
        reference = await placed(services, NGOZI)
        texted = len(fake_at.sent_to(NGOZI.e164))
        sent = len(fake_graph.sent)

        fake_graph.fail_next(400, code, f"(#{code}) {title}", details)
        await tell(services, reference, NoticeKind.OUT_FOR_DELIVERY)
        await services.delivery.send_due()
        await services.delivery.send_due()

        assert len(fake_graph.sent) == sent
        assert [m.message for m in fake_at.sent_to(NGOZI.e164)[texted:]] == [
            f"OmniRoute: order {reference} is on its way to you."
        ]
        told = (await services.notifications.for_recipient(NGOZI))[-1]
        assert (told.provider, told.kind, told.status) == (
            "africastalking",
            "sms",
            DeliveryStatus.SENT,
        )

    async def test_a_notice_whatsapp_cannot_take_for_now_is_retried_on_whatsapp(
        self,
        client: TestClient[Any, Any],
        services: Services,
        fake_graph: FakeGraphApi,
        fake_at: FakeAfricasTalking,
        clock: SteppedClock,
    ) -> None:
        """A temporary refusal (130429, the throughput limit) is tried again on WhatsApp,
        not texted."""
        await services.delivery.stop()
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
        reference = await placed(services, NGOZI)
        texted = len(fake_at.sent_to(NGOZI.e164))

        fake_graph.fail_next(400, 130429, "(#130429) Rate limit hit")
        await tell(services, reference, NoticeKind.OUT_FOR_DELIVERY)
        clock.advance(60)
        await services.delivery.send_due()

        assert fake_graph.sent_to(ngozi.wa_id)[-1].text == (
            f"OmniRoute: order {reference} is on its way to you."
        )
        assert len(fake_at.sent_to(NGOZI.e164)) == texted

    async def test_a_ussd_order_of_someone_who_also_writes_on_whatsapp_is_told_by_sms(
        self,
        client: TestClient[Any, Any],
        services: Services,
        fake_graph: FakeGraphApi,
        fake_at: FakeAfricasTalking,
        clock: SteppedClock,
    ) -> None:
        await services.delivery.stop()
        await WhatsAppUser(
            client,
            fake_graph,
            flush=services.delivery.send_due,
            now=lambda: int(clock.now().timestamp()),
            number=NGOZI.e164,
        ).say("hi")
        retailer = UssdPhone(client, NGOZI.e164)
        await retailer.dial()
        await retailer.walk("1", "1", "1", "3", "3", "1", "1", "1")
        reference = await placed(services, NGOZI)
        sent = len(fake_graph.sent)

        await tell(services, reference, NoticeKind.OUT_FOR_DELIVERY)
        assert len(fake_graph.sent) == sent
        assert fake_at.sent_to(NGOZI.e164)[-1].message == (
            f"OmniRoute: order {reference} is on its way to you."
        )


class TestTwilio:
    @pytest.fixture
    def port(self) -> int:
        return free_port()

    @pytest.fixture
    async def fake_twilio(self) -> AsyncIterator[FakeTwilio]:
        fake = FakeTwilio()
        await fake.start()
        yield fake
        await fake.close()

    @pytest.fixture
    def settings(self, database_url: str, port: int, fake_twilio: FakeTwilio) -> Settings:
        return fake_twilio.settings(database_url, public_url=f"http://127.0.0.1:{port}")

    async def test_a_whatsapp_order_through_twilio_is_told_on_twilio_whatsapp(
        self, services: Services, port: int, fake_twilio: FakeTwilio, clock: SteppedClock
    ) -> None:
        async with twilio_gateway(services, port) as webhooks:
            await services.delivery.stop()
            ngozi = TwilioChat(webhooks, NGOZI.e164, kind="whatsapp")
            for words in ("hi", "1", "1", "1", "3"):
                await ngozi.send(words)
            for label in ("Checkout", "Choose payment", "Pay on delivery", "Confirm"):
                await ngozi.choose(label)
            reference = await placed(services, NGOZI)

            await tell(services, reference, NoticeKind.OUT_FOR_DELIVERY)
            [told] = fake_twilio.sent_to(f"whatsapp:{NGOZI.e164}")
            assert told.body == f"OmniRoute: order {reference} is on its way to you."

            clock.advance(DAY + 60)
            await tell(services, reference, NoticeKind.DELIVERED)
            assert len(fake_twilio.sent_to(f"whatsapp:{NGOZI.e164}")) == 1
            assert fake_twilio.sent_to(NGOZI.e164)[-1].body == (
                f"OmniRoute: order {reference} is delivered. Thank you!"
            )


def test_only_a_whatsapp_provider_set_up_to_send_carries_notices() -> None:
    """Twilio answers WhatsApp webhooks in TwiML without a WhatsApp sender number; a notice
    through it would never leave, so such customers are still told by SMS."""
    answering = Settings(
        _env_file=None, twilio_account_sid="AC1", twilio_auth_token=SecretStr("token")
    )
    assert whatsapp_senders(answering) == frozenset()
    sending = answering.model_copy(
        update={
            "twilio_whatsapp_from": "whatsapp:+14155238886",
            "meta_access_token": SecretStr("EAAG"),
            "meta_phone_number_id": "1234",
        }
    )
    assert whatsapp_senders(sending) == {"meta", "twilio"}
