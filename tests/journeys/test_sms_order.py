"""Ordering by SMS through Africa's Talking, and the SMS confirmation of orders placed elsewhere.

Ngozi texts the shortcode; each text is Africa's Talking's incoming-SMS callback, and every
answer she gets is a request our sender made to the (local, fake) messaging API.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, update

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.gsm7 import gsm7_length
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.tables import products
from engines.notifications import DeliveryStatus
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.pricing.tables import prices
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import (
    API_KEY,
    MESSAGING_PATH,
    SHORTCODE,
    USERNAME,
    FakeAfricasTalking,
    SmsPhone,
    flush_outbox,
    message_id,
    parts_of,
)

NGOZI = "+2348030000001"
TOTAL = "NGN 26,993.25"
CASH = "NGN 26,993.00"  # what she pays in cash at the door: no kobo change hands

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def gateway(client: Client, services: Services) -> Client:
    """Deliveries are flushed by the test (`flush_outbox`), not by the background worker."""
    await services.delivery.stop()
    return client


@pytest.fixture
def ngozi_sms(gateway: Client, services: Services, fake_at: FakeAfricasTalking) -> SmsPhone:
    return SmsPhone(gateway, services, fake_at, NGOZI)


def confirmation(reference: str) -> str:
    return (
        f"OmniRoute: order {reference} placed, total {TOTAL}. Pay {CASH} in cash at the door. "
        "Reply STATUS for updates."
    )


async def order_by_ussd(phone: UssdPhone) -> str:
    """3 Indomie Chicken, pay on delivery; the order reference."""
    await phone.dial()
    await phone.choose("Shop")
    await phone.choose("Noodles")
    await phone.choose("Indomie Chicken")
    await phone.press("3")
    await phone.choose("Checkout")
    await phone.choose("Choose payment")
    await phone.choose("Pay on delivery")
    screen = await phone.choose("Confirm")
    assert screen.kind == "END"
    return screen.body.split()[1]


async def test_ngozi_orders_by_sms_and_gets_one_text_confirming_it_not_two(
    ngozi_sms: SmsPhone, services: Services
) -> None:
    menu = await ngozi_sms.text("Hi")
    assert menu.startswith("Welcome to OmniRoute\n1. Shop")
    categories = await ngozi_sms.text("1")
    assert "1. Noodles & Pasta" in categories
    noodles = await ngozi_sms.text("1")
    assert "1. Indomie Chicken 40x70g NGN 9,300" in noodles
    prompt = await ngozi_sms.text("1")
    assert "Enter quantity:" in prompt
    added = await ngozi_sms.text("3")
    assert added.startswith("Added 3 x Indomie Chicken 40x70g.\nCart: 3 items.")
    quote = await ngozi_sms.text("3")
    assert f"Total {TOTAL}" in quote
    assert "1. Pay on delivery" in await ngozi_sms.text("1")
    assert f"Place order for {TOTAL}, pay {CASH} cash on delivery?" in await ngozi_sms.text("1")

    # The conversation's closing text is the confirmation: the order confirmation SMS every
    # order placed elsewhere gets would say the same again, and each text costs the shop.
    [placed] = await ngozi_sms.send("1")

    [order] = await services.orders.recent(Phone(NGOZI))
    assert placed == (
        f"Order {order.reference} placed. Total {TOTAL}. Pay {CASH} in cash at the door. Thank"
        " you! Reply STATUS for updates."
    )
    assert await ngozi_sms.receive() == []  # the order's event relayed: still nothing more
    queued = [d.dedupe_key for d in await services.notifications.for_recipient(Phone(NGOZI))]
    assert not [key for key in queued if key.startswith("order-placed-sms:")]
    # Every answer fits one SMS: 160 GSM-7 characters.
    for sms in ngozi_sms.inbox:
        assert gsm7_length(sms) <= 160, sms
        assert parts_of(sms) == 1
    # The conversation ended with the order; the next text starts afresh.
    assert (await ngozi_sms.text("Hi")).startswith("Welcome to OmniRoute")


async def test_a_number_written_as_a_list_is_numbered_is_the_choice(
    ngozi_sms: SmsPhone, services: Services
) -> None:
    """'1.' or '1)' (a choice as people number a list in a message) got 'Choose a number
    from the list' above the same menu; at the promo-code prompt the text stays as typed."""
    assert (await ngozi_sms.text("Hi")).startswith("Welcome to OmniRoute")
    assert "1. Noodles & Pasta" in await ngozi_sms.text("1.")
    assert "1. Indomie Chicken 40x70g NGN 9,300" in await ngozi_sms.text(" 1) ")
    assert "Enter quantity:" in await ngozi_sms.text("1 .")
    assert (await ngozi_sms.text("3")).startswith("Added 3 x Indomie Chicken 40x70g.")
    assert f"Total {TOTAL}" in await ngozi_sms.text("3)")
    assert "promo code" in (await ngozi_sms.text("2.")).lower()
    assert (await ngozi_sms.text("1.")).startswith("Code 1. is not valid.")
    assert f"Total {TOTAL}" in await ngozi_sms.text("0")
    assert "1. Pay on delivery" in await ngozi_sms.text("1.")
    assert f"Place order for {TOTAL}, pay {CASH} cash on delivery?" in await ngozi_sms.text("1)")
    [placed] = await ngozi_sms.send("1.")
    [order] = await services.orders.recent(Phone(NGOZI))
    assert placed.startswith(f"Order {order.reference} placed.")


async def test_ussd_order_gets_its_sms_confirmation_through_africastalking(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    reference = await order_by_ussd(UssdPhone(gateway, NGOZI))
    assert fake_at.requests == []

    assert await flush_outbox(services) == 1

    [request] = fake_at.requests
    assert (request.method, request.path) == ("POST", MESSAGING_PATH)
    assert request.headers["apiKey"] == API_KEY
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == [
        ("username", USERNAME),
        ("to", NGOZI),
        ("message", confirmation(reference)),
        ("from", SHORTCODE),
    ]
    [delivery] = await services.notifications.for_recipient(Phone(NGOZI))
    assert delivery.dedupe_key.startswith("order-placed-sms:")
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.provider_message_id == message_id(1)
    # The event relayed again (as after a crash) queues nothing new.
    assert await flush_outbox(services) == 0


async def test_stop_suppresses_order_confirmations_and_start_brings_them_back(
    ngozi_sms: SmsPhone, gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    assert (await ngozi_sms.text("STOP")).startswith("You will get no more messages")
    ussd = UssdPhone(gateway, NGOZI)

    await order_by_ussd(ussd)
    assert await ngozi_sms.receive() == []

    confirmations = [
        d
        for d in await services.notifications.for_recipient(Phone(NGOZI))
        if d.dedupe_key.startswith("order-placed-sms:")
    ]
    assert [d.status for d in confirmations] == [DeliveryStatus.SUPPRESSED]
    assert [r.field("message") for r in fake_at.requests] == [ngozi_sms.inbox[0]]

    back = await ngozi_sms.text("START")
    assert back.startswith("Welcome back: you will get order updates again.\nWelcome to OmniRoute")
    reference = await order_by_ussd(ussd)

    assert await ngozi_sms.receive() == [confirmation(reference)]


async def quote_by_sms(phone: SmsPhone, quantity: str = "3") -> str:
    """Shop > Noodles > Indomie Chicken > quantity > Checkout: the quote."""
    for key in ("Hi", "1", "1", "1", quantity):
        await phone.text(key)
    return await phone.text("3")


async def test_a_key_not_on_the_quote_is_answered_with_the_quote_in_one_sms(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    """Bola pays for delivery: his quote has a line more, and a mistyped key said 'service
    not available' instead of the quote again."""
    bola = SmsPhone(gateway, services, fake_at, "+2348030000002")
    quote = await quote_by_sms(bola, quantity="1")
    assert "Delivery NGN" in quote

    again = await bola.text("7")

    assert again.startswith("Please choose a number from the list.\n")
    assert "Total NGN" in again
    assert again.endswith("1. Choose payment\n2. Promo code\n0. Back")
    assert gsm7_length(again) <= 160, again


async def test_a_price_held_too_long_is_quoted_again_in_one_sms(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking, clock: SteppedClock
) -> None:
    bola = SmsPhone(gateway, services, fake_at, "+2348030000002")
    await quote_by_sms(bola, quantity="1")
    await bola.text("1")  # Choose payment: the price is held for 15 minutes
    await bola.text("1")  # Pay on delivery
    async with services.db.transaction() as s:  # Indomie goes up meanwhile
        await s.execute(
            update(prices)
            .where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
            .values(unit_price=Decimal("9500.00"))
        )
    services.pricing.forget()
    clock.advance(15 * 60)

    requote = await bola.text("1")  # Confirm

    assert requote.startswith("Prices changed. Check the new total.\n")
    assert "Total NGN" in requote
    assert requote.endswith("1. Choose payment\n2. Promo code\n0. Back")
    assert gsm7_length(requote) <= 160, requote
    assert await services.orders.recent(Phone("+2348030000002")) == []


async def test_a_code_used_up_while_its_price_was_held_says_so_in_one_sms(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    """Bola's app places an order with WELCOME (once per customer) while his SMS checkout
    holds a price with it: the SMS quote that comes back must say why the code went, not
    show a dearer total with no word (the line did not fit and was lost)."""
    bola = SmsPhone(gateway, services, fake_at, "+2348030000002")
    await quote_by_sms(bola, quantity="1")
    await bola.text("2")  # Promo code
    assert "Code WELCOME -NGN 465.00" in await bola.text("WELCOME")
    await bola.text("1")  # Choose payment: the price is held, with the code
    await bola.text("1")  # Pay on delivery
    await services.orders.place(
        PlaceOrder(
            customer=Phone("+2348030000002"),
            region=RegionCode.LAGOS,
            lines=(CartLine("NDL-INDO-CHK", 2),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key="app-order-1",
            voucher="WELCOME",
            clear_cart=False,  # as GraphQL places orders
        )
    )

    answers = await bola.send("1")  # Confirm (the app's order is texted too)

    [requote] = [text for text in answers if "Total NGN" in text]
    assert requote.startswith("Code WELCOME has been used up.\n")
    assert "Total NGN 11,610.00" in requote
    assert gsm7_length(requote) <= 160, requote


async def test_a_product_withdrawn_during_an_sms_checkout_is_named_with_the_new_total(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    """Bola (who pays for delivery: the longest quote) has Indomie and Spaghetti in the cart;
    Indomie loses its Lagos price while he reads the quote."""
    bola = SmsPhone(gateway, services, fake_at, "+2348030000002")
    for key in ("Hi", "1", "1", "1", "1"):
        await bola.text(key)
    cart = await services.orders.cart(Phone("+2348030000002"), RegionCode.LAGOS)
    await services.orders.save_cart(cart.with_quantity("NDL-SPAG-500", 1))
    assert "Total NGN" in await bola.text("3")  # Checkout
    async with services.db.transaction() as s:
        await s.execute(
            delete(prices).where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
        )
    services.pricing.forget()

    requote = await bola.text("1")  # Choose payment

    assert requote.startswith("Indomie Chicken 40x70g removed: no longer sold.\n")
    assert "Total NGN" in requote
    assert requote.endswith("1. Choose payment\n2. Promo code\n0. Back")
    assert gsm7_length(requote) <= 160, requote
    assert "Pay on delivery" in await bola.text("1")  # Choose payment
    assert "Place order for NGN" in await bola.text("1")


async def test_a_withdrawn_product_too_long_to_name_in_one_sms_still_gets_the_new_quote(
    gateway: Client, services: Services, fake_at: FakeAfricasTalking
) -> None:
    bola = SmsPhone(gateway, services, fake_at, "+2348030000002")
    for key in ("Hi", "1", "1", "1", "1"):
        await bola.text(key)
    cart = await services.orders.cart(Phone("+2348030000002"), RegionCode.LAGOS)
    await services.orders.save_cart(cart.with_quantity("NDL-SPAG-500", 1))
    await bola.text("3")  # Checkout
    async with services.db.transaction() as s:
        await s.execute(
            update(products)
            .where(products.c.region == "lagos", products.c.sku == "NDL-INDO-CHK")
            .values(name="Indomie Instant Noodles Chicken Flavour Family Carton 40 x 70 g")
        )
        await s.execute(
            delete(prices).where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
        )
    services.catalogue.forget()
    services.pricing.forget()

    requote = await bola.text("1")  # Choose payment

    assert requote.startswith("Cart updated: 1 product removed, no longer available.\n")
    assert requote.endswith("1. Choose payment\n2. Promo code\n0. Back")
    assert gsm7_length(requote) <= 160, requote
