"""One cart per phone, whatever the channel: started on USSD, finished on web chat, and back.

The cart lives in the database under the customer's phone; the conversations do not (a USSD
session per call, a web chat per phone), so a new conversation on either channel finds it.
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from tests.contract.channels.web.chat import WebChat
from tests.support.phone import UssdPhone

NGOZI = Phone("+2348030000001")
LAGOS = RegionCode.LAGOS
INDOMIE = "NDL-INDO-CHK"
MACARONI = "NDL-MACA-500"
RESUME_OFFER = {
    "text": "Welcome back! Your cart has 3 items, NGN 26,993.25.",
    "options": [
        {"key": "1", "label": "Continue with cart"},
        {"key": "2", "label": "Start a new cart"},
    ],
    "end": False,
}
CART_OF_THREE = {
    "text": "Cart (3 items, NGN 26,993.25):",
    "options": [
        {"key": "1", "label": "Checkout"},
        {"key": "2", "label": "3 x Indomie Chicken 40x70g"},
        {"key": "0", "label": "Back"},
    ],
    "end": False,
}


@pytest.fixture
def web(client: TestClient[object, object]) -> WebChat:
    """Ngozi's chat window, as the phone number she dials USSD from."""
    return WebChat(client, NGOZI.e164)


async def three_noodles_on_ussd_then_hang_up(ngozi: UssdPhone) -> None:
    await ngozi.dial()
    await ngozi.walk("1", "1", "1")
    assert (await ngozi.press("3")).lines[0] == "Added 3 x Indomie Chicken 40x70g."
    # ...and the call drops: no more presses on this session.


async def three_noodles_on_web(web: WebChat) -> None:
    await web.send("hi")
    await web.choose("Shop")
    await web.choose("Noodles")
    await web.choose("Indomie Chicken")
    assert (await web.send("3"))["text"] == "Added 3 x Indomie Chicken 40x70g.\nCart: 3 items."


async def test_cart_from_ussd_is_offered_on_web_chat_and_checks_out_there(
    ngozi: UssdPhone, web: WebChat, services: Services
) -> None:
    await three_noodles_on_ussd_then_hang_up(ngozi)

    assert await web.send("hi") == RESUME_OFFER
    assert await web.choose("Continue with cart") == CART_OF_THREE
    await web.choose("Checkout")
    await web.choose("Choose payment")
    await web.choose("Pay on delivery")
    done = await web.choose("Confirm")

    orders = await services.orders.recent(NGOZI)
    assert len(orders) == 1
    assert done == {
        "text": f"Order {orders[0].reference} placed. Total NGN 26,993.25. Pay NGN 26,993.00 "
        "in cash at the door. Thank you!",
        "options": [],
        "end": True,
    }
    assert [(line.sku, line.quantity) for line in orders[0].lines] == [(INDOMIE, 3)]
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    # Dialling again finds nothing left to resume.
    assert (await ngozi.dial()).text == "Welcome to OmniRoute"


async def test_cart_from_web_chat_is_offered_on_ussd_and_checks_out_there(
    ngozi: UssdPhone, web: WebChat, services: Services
) -> None:
    await three_noodles_on_web(web)

    offer = await ngozi.dial()

    assert offer.kind == "CON"
    assert offer.text == RESUME_OFFER["text"]
    assert offer.labels == ["Continue with cart", "Start a new cart"]
    cart = await ngozi.choose("Continue with cart")
    assert cart.text == CART_OF_THREE["text"]
    assert cart.labels == ["Checkout", "3 x Indomie Chicken 40x70g", "Back"]
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    done = await ngozi.choose("Confirm")

    orders = await services.orders.recent(NGOZI)
    assert len(orders) == 1
    assert done.kind == "END"
    assert done.body == (
        f"Order {orders[0].reference} placed. Total NGN 26,993.25. Pay NGN 26,993.00 in cash at"
        " the door. Thank you!"
    )
    assert [(line.sku, line.quantity) for line in orders[0].lines] == [(INDOMIE, 3)]
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty


async def test_starting_a_new_cart_on_web_chat_empties_it_for_ussd(
    ngozi: UssdPhone, web: WebChat, services: Services
) -> None:
    await three_noodles_on_ussd_then_hang_up(ngozi)
    await web.send("hi")

    fresh = await web.choose("Start a new cart")

    assert fresh["text"] == "Welcome to OmniRoute"
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    assert "Cart (0)" in (await ngozi.dial()).labels


async def test_the_same_cart_quotes_the_same_total_on_ussd_and_web_chat(
    ngozi: UssdPhone, web: WebChat, services: Services
) -> None:
    """3 noodles from USSD (promotion) and 12 macaroni from web chat (the 10+ tier)."""
    await three_noodles_on_ussd_then_hang_up(ngozi)
    await web.send("hi")
    await web.choose("Continue with cart")
    await web.choose("Checkout")
    await web.send("0")  # back to the cart
    await web.send("0")  # ...and to the main menu
    await web.choose("Shop")
    await web.choose("Noodles")
    await web.choose("Macaroni")
    await web.send("12")

    web_quote = await web.choose("Checkout")
    await ngozi.dial()
    await ngozi.choose("Continue with cart")
    ussd_quote = await ngozi.choose("Checkout")

    cart = await services.orders.cart(NGOZI, LAGOS)
    assert sorted((line.sku, line.quantity) for line in cart.lines) == [
        (INDOMIE, 3),
        (MACARONI, 12),
    ]
    engine = await services.pricing.quote(LAGOS, [(line.sku, line.quantity) for line in cart.lines])
    assert web_quote["text"] == ussd_quote.text
    assert ussd_quote.text == (
        "Subtotal NGN 186,900.00\nPromotion -NGN 18,690.00\nVAT 7.5% NGN 12,615.75\n"
        "Total NGN 180,825.75"
    )
    assert web_quote["text"].endswith(f"Total {engine.total.format()}")
    assert ussd_quote.labels == ["Choose payment", "Promo code", "Back"]
    assert [o["label"] for o in web_quote["options"]] == ["Choose payment", "Promo code", "Back"]
