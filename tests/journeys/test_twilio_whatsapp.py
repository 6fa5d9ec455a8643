"""Ngozi orders on WhatsApp through Twilio: plain numbered menus, every reply read from the TwiML
`<Message>` Twilio would relay, every webhook signed as Twilio signs it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.app.bootstrap import Services
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from tests.support.ports import free_port
from tests.support.providers.twilio import (
    TwilioChat,
    TwilioWebhooks,
    twilio_gateway,
    twilio_settings,
)

NGOZI = Phone("+2348030000001")
INDOMIE = "NDL-INDO-CHK"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, port: int) -> Settings:
    return twilio_settings(database_url, public_url=f"http://127.0.0.1:{port}")


@pytest.fixture
async def twilio(services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
    async with twilio_gateway(services, port) as webhooks:
        yield webhooks


@pytest.fixture
def ngozi(twilio: TwilioWebhooks) -> TwilioChat:
    return TwilioChat(twilio, NGOZI.e164, kind="whatsapp")


async def test_ngozi_orders_noodles_on_whatsapp_from_hi_to_the_order_reference(
    ngozi: TwilioChat, services: Services
) -> None:
    welcome = await ngozi.send("hi")
    assert welcome == (
        "Welcome to OmniRoute\n1. Shop\n2. Cart (0)\n3. My orders\n4. Language\n5. Help"
    )
    categories = await ngozi.send("1")
    assert categories.startswith("Choose a category:\n1. Noodles & Pasta\n2. Rice & Grains")
    products = await ngozi.send("1")
    assert products.startswith("Noodles & Pasta:\n1. Indomie Chicken 40x70g NGN 9,300")
    prompt = await ngozi.send("1")
    assert prompt.endswith("Enter quantity:\n00. Back")
    added = await ngozi.send("3")
    assert added.startswith("Added 3 x Indomie Chicken 40x70g.\nCart: 3 items.")
    quote = await ngozi.choose("Checkout")
    assert "Promotion -NGN 2,790.00" in quote
    assert "VAT 7.5% NGN 1,883.25" in quote
    assert "Total NGN 26,993.25" in quote
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")

    placed = await ngozi.choose("Confirm")

    [order] = await services.orders.recent(NGOZI)
    assert (
        placed
        == f"Order {order.reference} placed. Total NGN 26,993.25. Pay NGN 26,993.00 in cash at"
        " the door. Thank you!"
    )
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).is_empty
    # The conversation ended with the order; the next message starts a new one.
    assert await services.store.load(f"whatsapp:{NGOZI.e164}") is None
    await ngozi.send("hi")
    orders = await ngozi.choose("My orders")
    assert f"{order.reference} Placed 26,993.25" in orders


async def test_button_reply_and_shared_location_on_the_way_to_an_order(
    ngozi: TwilioChat, services: Services
) -> None:
    await ngozi.send("hi")

    # A quick-reply button's payload is the menu key: "Shop".
    categories = await ngozi.tap("1", "Shop")
    assert categories.startswith("Choose a category:")
    # A shared location is not a menu choice (no step takes one yet): the screen comes back.
    again = await ngozi.share_location(
        "6.4541", "3.3947", address="12 Broad Street, Lagos Island, Lagos", label="Ngozi Stores"
    )
    assert again == "Please choose a number from the list.\n" + categories

    await ngozi.send("1")
    await ngozi.send("1")
    await ngozi.send("2")
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).quantity_of(INDOMIE) == 2


async def test_retried_confirm_places_one_order(ngozi: TwilioChat, services: Services) -> None:
    for text in ("hi", "1", "1", "1", "3"):
        await ngozi.send(text)
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    placed = await ngozi.choose("Confirm")

    again = await ngozi.resend()

    assert again == placed
    assert len(await services.orders.recent(NGOZI)) == 1


async def test_a_whatsapp_message_on_twilio_opens_the_24_hour_window(
    services: Services, ngozi: TwilioChat
) -> None:
    phone = Phone("+2348030000001")
    assert await services.notifications.last_inbound("twilio", phone) is None
    await ngozi.send("hi")
    assert await services.notifications.last_inbound("twilio", phone) == services.clock.now()


async def test_first_keyword_in_the_language_ngozi_chose_is_understood_on_whatsapp(
    ngozi: TwilioChat, services: Services
) -> None:
    await services.customers.set_locale(NGOZI, "sw")

    assert await ngozi.send("hali") == "Bado huna oda.\n0. Rudi"
