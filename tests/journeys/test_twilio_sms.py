"""SMS through Twilio: Ngozi orders by text message, and with `OMNIROUTE_SMS_PROVIDER=twilio` every
order confirmation goes out through Twilio's Messages API (here the fake on loopback), sent by
the gateway's own background delivery worker and marked delivered by Twilio's status callback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest

from core.app.bootstrap import Services
from core.config import Settings
from core.phone import Phone
from engines.notifications import Delivery, DeliveryStatus
from tests.support.phone import UssdPhone
from tests.support.ports import free_port
from tests.support.providers.twilio import (
    ACCOUNT_SID,
    SMS_NUMBER,
    STATUS_PATH,
    FakeTwilio,
    SentMessage,
    TwilioChat,
    TwilioWebhooks,
    status_body,
    twilio_gateway,
)

NGOZI = Phone("+2348030000001")
WAIT_SECONDS = 10.0
T = TypeVar("T")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def settings(database_url: str, port: int, fake_twilio: FakeTwilio) -> Settings:
    return fake_twilio.settings(database_url, public_url=f"http://127.0.0.1:{port}")


@pytest.fixture
async def twilio(services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
    async with twilio_gateway(services, port) as webhooks:
        yield webhooks


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """What `probe` finds once the background relay and delivery worker have done their part."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while (found := await probe()) is None:
        assert asyncio.get_running_loop().time() < deadline, f"no {what} in {WAIT_SECONDS}s"
        await asyncio.sleep(0.05)
    return found


async def confirmation(fake: FakeTwilio) -> SentMessage:
    async def sent() -> list[SentMessage] | None:
        return fake.sent_to(NGOZI.e164) or None

    messages = await eventually(sent, "SMS through Twilio")
    assert len(messages) == 1, messages
    return messages[0]


async def delivery_of(services: Services, message_sid: str) -> Delivery:
    found = [
        d
        for d in await services.notifications.for_recipient(NGOZI)
        if d.provider_message_id == message_sid
    ]
    assert len(found) == 1, found
    return found[0]


async def test_ussd_order_is_confirmed_by_sms_through_twilio_and_marked_delivered(
    twilio: TwilioWebhooks, fake_twilio: FakeTwilio, services: Services
) -> None:
    phone = UssdPhone(twilio.client, NGOZI.e164)
    await phone.dial()
    end = await phone.walk("1", "1", "1", "3", "3", "1", "1", "1")
    reference = end.body.split()[1]

    sms = await confirmation(fake_twilio)

    assert sms.body == (
        f"OmniRoute: order {reference} placed, total NGN 26,993.25. Pay NGN 26,993.00 "
        "in cash at the door. Reply STATUS for updates."
    )
    assert sms.sender == SMS_NUMBER
    assert sms.status_callback == twilio.url(STATUS_PATH)
    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

    async def sent() -> Delivery | None:
        # The worker records Twilio's sid just after Twilio answered it.
        found = await services.notifications.for_recipient(NGOZI)
        return next((d for d in found if d.provider_message_id == sms.sid), None)

    assert (await eventually(sent, "delivery marked sent")).status is DeliveryStatus.SENT

    response = await twilio.post(STATUS_PATH, status_body(sms.sid, "delivered", to=NGOZI.e164))

    assert response.status == 204
    assert (await delivery_of(services, sms.sid)).status is DeliveryStatus.DELIVERED


async def test_ngozi_orders_by_sms_and_the_twiml_reply_is_its_only_confirmation(
    twilio: TwilioWebhooks, fake_twilio: FakeTwilio, services: Services
) -> None:
    ngozi = TwilioChat(twilio, NGOZI.e164, kind="sms")
    welcome = await ngozi.send("Hi")
    assert welcome.startswith("Welcome to OmniRoute\n1. Shop")
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    await ngozi.choose("Indomie Chicken")
    await ngozi.send("3")
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")

    placed = await ngozi.choose("Confirm")

    [by_sms] = await services.orders.recent(NGOZI)
    assert placed.startswith(f"Order {by_sms.reference} placed.")
    # Every screen was one SMS segment's worth of menu, and the reply came back as TwiML: that
    # text confirmed the order. An order placed next over USSD gets its SMS confirmation through
    # the Messages API; events relay in order, so once it is sent the SMS order's event was
    # handled too, and it sent nothing.
    phone = UssdPhone(twilio.client, NGOZI.e164)
    await phone.dial()
    by_ussd = (await phone.walk("1", "1", "1", "3", "3", "1", "1", "1")).body.split()[1]
    sms = await confirmation(fake_twilio)  # exactly one message through the API
    assert by_ussd in (sms.body or "")
    assert by_sms.reference not in (sms.body or "")


async def test_a_first_sms_in_swahili_through_twilio_is_a_keyword_too(
    twilio: TwilioWebhooks, services: Services
) -> None:
    """Juma's very first text is ACHA (STOP): he is opted out, as over Africa's Talking."""
    juma = Phone("+254711000001")
    chat = TwilioChat(twilio, juma.e164, kind="sms")

    stopped = await chat.send("ACHA")

    assert stopped.startswith("Hutapokea ujumbe zaidi kutoka OmniRoute.")
    customer = await services.customers.get(juma)
    assert customer is not None
    assert customer.opted_out
    wanjiru = TwilioChat(twilio, "+254711000002", kind="sms")
    assert (await wanjiru.send("hali")).startswith("Bado huna oda.")
