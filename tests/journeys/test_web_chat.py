"""Web and mobile chat over POST /channels/web/messages: a whole order, and resends applied once."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from tests.contract.channels.web.chat import WebChat, labels

NGOZI = Phone("+2348030000001")
LAGOS = RegionCode.LAGOS
INDOMIE = "NDL-INDO-CHK"


def back(key: str = "0") -> dict[str, str]:
    return {"key": key, "label": "Back"}


def main_menu(cart: int = 0) -> dict[str, Any]:
    return {
        "text": "Welcome to OmniRoute",
        "options": [
            {"key": "1", "label": "Shop"},
            {"key": "2", "label": f"Cart ({cart})"},
            {"key": "3", "label": "My orders"},
            {"key": "4", "label": "Language"},
            {"key": "5", "label": "Help"},
        ],
        "end": False,
    }


QUANTITY_PROMPT = {
    "text": "Indomie Chicken 40x70g\nNGN 9,300 per carton, 200 in stock.\nEnter quantity:",
    "options": [back("00")],
    "end": False,
}
ADDED_THREE = {
    "text": "Added 3 x Indomie Chicken 40x70g.\nCart: 3 items.",
    "options": [
        {"key": "1", "label": "Add more products"},
        {"key": "2", "label": "View cart"},
        {"key": "3", "label": "Checkout"},
    ],
    "end": False,
}
CONFIRM = {
    "text": "Place order for NGN 26,993.25, pay NGN 26,993.00 cash on delivery?",
    "options": [{"key": "1", "label": "Confirm"}, {"key": "2", "label": "Cancel"}, back()],
    "end": False,
}


@pytest.fixture
def chat(client: TestClient[object, object]) -> WebChat:
    """Ngozi's chat window in the web app, as the same phone number she dials USSD from."""
    return WebChat(client, NGOZI.e164)


async def to_quantity_prompt(chat: WebChat) -> None:
    await chat.send("hi")
    await chat.choose("Shop")
    await chat.choose("Noodles")
    assert await chat.choose("Indomie Chicken") == QUANTITY_PROMPT


async def test_whole_order_over_web_chat_from_hi_to_the_order_reference(
    chat: WebChat, services: Services
) -> None:
    assert await chat.send("hi") == main_menu()
    assert await chat.send("1") == {
        "text": "Choose a category:",
        "options": [
            {"key": "1", "label": "Noodles & Pasta"},
            {"key": "2", "label": "Rice & Grains"},
            {"key": "3", "label": "Cooking Oil"},
            {"key": "4", "label": "Drinks"},
            {"key": "5", "label": "Milk & Dairy"},
            {"key": "6", "label": "Personal Care"},
            {"key": "7", "label": "Household Cleaning"},
            {"key": "8", "label": "Snacks & Biscuits"},
            back(),
        ],
        "end": False,
    }
    assert await chat.send("1") == {
        "text": "Noodles & Pasta:",
        "options": [
            {"key": "1", "label": "Indomie Chicken 40x70g NGN 9,300"},
            {"key": "2", "label": "Indomie Onion 40x70g NGN 9,300"},
            {"key": "3", "label": "Macaroni 20x500g NGN 13,650"},
            {"key": "4", "label": "Spaghetti 20x500g NGN 14,100"},
            back(),
        ],
        "end": False,
    }
    assert await chat.send("1") == QUANTITY_PROMPT
    assert await chat.send("3") == ADDED_THREE
    assert await chat.send("3") == {
        "text": "Subtotal NGN 27,900.00\nPromotion -NGN 2,790.00\nVAT 7.5% NGN 1,883.25\n"
        "Total NGN 26,993.25",
        "options": [
            {"key": "1", "label": "Choose payment"},
            {"key": "2", "label": "Promo code"},
            back(),
        ],
        "end": False,
    }
    assert await chat.send("1") == {
        "text": "How will you pay?",
        "options": [{"key": "1", "label": "Pay on delivery"}, back()],
        "end": False,
    }
    assert await chat.send("1") == CONFIRM

    done = await chat.send("1")

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
    # The conversation ended: the next message starts over, with an empty cart.
    assert await chat.send("hi") == main_menu(cart=0)


async def test_resent_quantity_with_the_same_client_id_adds_to_the_cart_once(
    chat: WebChat, services: Services
) -> None:
    await to_quantity_prompt(chat)

    first = await chat.send("3", id="msg-0005")
    resent = await chat.send("3", id="msg-0005")

    assert first == ADDED_THREE
    assert resent == first
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(INDOMIE) == 3
    # The session moved once: the next message answers the "Added" menu.
    view = await chat.choose("View cart")
    assert view["text"] == "Cart (3 items, NGN 26,993.25):"


async def test_resent_confirm_with_the_same_client_id_places_one_order(
    chat: WebChat, services: Services
) -> None:
    await to_quantity_prompt(chat)
    await chat.send("3")
    await chat.choose("Checkout")
    await chat.choose("Choose payment")
    assert await chat.choose("Pay on delivery") == CONFIRM
    available = await services.catalogue.available(LAGOS, INDOMIE)

    first = await chat.send("1", id="confirm-1")
    resent = await chat.send("1", id="confirm-1")

    assert first["end"] is True
    assert resent == first
    orders = await services.orders.recent(NGOZI)
    assert len(orders) == 1
    assert f"Order {orders[0].reference} placed" in first["text"]
    assert await services.catalogue.available(LAGOS, INDOMIE) == available - 3


async def test_a_late_resend_gets_its_old_reply_and_moves_nothing(
    chat: WebChat, services: Services
) -> None:
    menu = await chat.send("hi", id="a1")
    categories = await chat.send("1", id="a2")
    await chat.send("1", id="a3")

    assert await chat.send("hi", id="a1") == menu
    assert await chat.send("1", id="a2") == categories

    session = await services.store.load(f"web:{NGOZI.e164}")
    assert session is not None
    assert session.state == "products"
    assert await chat.send("1") == QUANTITY_PROMPT


async def test_messages_without_an_id_are_each_applied(chat: WebChat, services: Services) -> None:
    """No id, no de-duplication: the same text twice is two turns."""
    await chat.send("hi")
    await chat.choose("Shop")
    await chat.choose("Noodles")

    assert await chat.send("1") == QUANTITY_PROMPT
    added = await chat.send("1")

    assert added["text"] == "Added 1 x Indomie Chicken 40x70g.\nCart: 1 item."
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(INDOMIE) == 1


async def test_the_same_client_id_from_two_phones_is_two_messages(
    client: TestClient[object, object], services: Services
) -> None:
    ngozi = WebChat(client, NGOZI.e164)
    juma = WebChat(client, "+254711000001")

    assert (await ngozi.send("hi", id="1"))["text"] == "Welcome to OmniRoute"
    assert (await juma.send("hi", id="1"))["text"] == "Karibu OmniRoute"


async def test_back_and_home_work_as_typed_words_too(chat: WebChat) -> None:
    await chat.send("hi")
    await chat.choose("Shop")
    await chat.choose("Noodles")

    assert (await chat.send("back"))["text"] == "Choose a category:"
    assert await chat.send("menu") == main_menu()


async def test_a_typed_answer_that_is_not_an_option_asks_again(chat: WebChat) -> None:
    await chat.send("hi")

    again = await chat.send("I want noodles")

    assert again["text"] == "Please choose a number from the list.\nWelcome to OmniRoute"
    assert labels(again) == labels(main_menu())


@pytest.mark.parametrize(
    ("user", "locale", "welcome"),
    [
        (NGOZI.e164, "sw", "Karibu OmniRoute"),  # a Lagos phone, an app set to Swahili
        (NGOZI.e164, "sw-KE", "Karibu OmniRoute"),
        ("+254711000001", "en-GB", "Welcome to OmniRoute"),  # a Nairobi phone, in English
        ("+254711000001", "fr-FR", "Bienvenue chez OmniRoute"),
        ("+254711000001", "de", "Karibu OmniRoute"),  # not spoken: the market's language
        (NGOZI.e164, "zu", "Welcome to OmniRoute"),
        (NGOZI.e164, "yo", "E kaabo si OmniRoute"),  # a Lagos phone, an app set to Yoruba
    ],
)
async def test_the_apps_language_opens_a_new_chat_in_it_when_we_speak_it(
    client: TestClient[object, object], user: str, locale: str, welcome: str
) -> None:
    reply = await WebChat(client, user).send("hi", locale=locale)
    assert reply["text"] == welcome


async def test_a_language_chosen_in_the_menu_outlasts_the_apps_hint(
    chat: WebChat, services: Services
) -> None:
    """Language changes it for good, on every channel: the app's setting is only a default."""
    await services.customers.set_locale(NGOZI, "en")
    assert (await chat.send("hi", locale="sw"))["text"] == "Welcome to OmniRoute"
