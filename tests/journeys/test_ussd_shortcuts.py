"""Dialling straight to a menu entry: *384*123*3# opens My orders, not "session interrupted"."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.tables import stock_levels
from engines.pricing.tables import prices
from tests.support.phone import UssdPhone

NGOZI = Phone("+2348030000001")


async def test_dialling_the_orders_shortcut_shows_my_orders(ngozi: UssdPhone) -> None:
    screen = await ngozi.dial("3")

    assert screen.kind == "CON"
    assert screen.text == "You have no orders yet."
    assert "interrupted" not in screen


async def test_dialling_the_shop_shortcut_shows_the_categories_and_goes_on(
    ngozi: UssdPhone, services: Services
) -> None:
    assert (await ngozi.dial("1")).text == "Choose a category:"

    # Africa's Talking's next request carries the shortcut too: text=1*1, then 1*1*1, 1*1*1*3.
    await ngozi.walk("1", "1")
    added = await ngozi.press("3")

    assert ngozi.form()["text"] == "1*1*1*3"
    assert added.lines[0] == "Added 3 x Indomie Chicken 40x70g."
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).item_count == 3


async def test_back_from_a_shortcut_screen_is_the_main_menu(ngozi: UssdPhone) -> None:
    await ngozi.dial("3")

    screen = await ngozi.press("0")

    assert screen.text == "Welcome to OmniRoute"
    assert screen.labels[0] == "Shop"


async def test_a_shortcut_key_not_on_the_menu_asks_for_a_number(ngozi: UssdPhone) -> None:
    screen = await ngozi.dial("9")

    assert screen.lines[0] == "Please choose a number from the list."
    assert screen.lines[1] == "Welcome to OmniRoute"
    assert len(screen.options) == 5


async def test_a_retried_shortcut_request_is_answered_once(ngozi: UssdPhone) -> None:
    first = await ngozi.dial("1")

    again = await ngozi.resend()
    products = await ngozi.press("1")

    assert again == first
    assert products.text != first.text
    assert "interrupted" not in products
    assert (await ngozi.press("1")).lines[-2] == "Enter quantity:"


async def test_several_inputs_on_an_unknown_session_still_say_it_was_lost(
    ngozi: UssdPhone,
) -> None:
    screen = await ngozi.dial("1", "1", "1")

    assert screen.lines[0] == "Sorry, your session was interrupted."
    assert screen.lines[1] == "Welcome to OmniRoute"


async def test_a_shortcut_wins_over_the_cart_offer(ngozi: UssdPhone) -> None:
    await ngozi.dial("1")
    await ngozi.walk("1", "1", "3")

    orders = await ngozi.dial("3")
    cart = await ngozi.dial("2")

    assert orders.text == "You have no orders yet."
    assert cart.text == "Cart (3 items, NGN 26,993.25):"


async def test_a_shortcut_key_not_on_the_menu_offers_the_cart(ngozi: UssdPhone) -> None:
    await ngozi.dial("1")
    await ngozi.walk("1", "1", "3")

    screen = await ngozi.dial("7")

    assert screen.lines[0] == "Please choose a number from the list."
    assert screen.lines[1] == "Welcome back! Your cart has 3 items, NGN 26,993.25."
    assert screen.labels == ["Continue with cart", "Start a new cart"]


@pytest.mark.parametrize(("key", "msgid"), [("1", "categories.title"), ("3", "orders.none")])
async def test_shortcuts_answer_in_swahili(
    juma: UssdPhone, services: Services, key: str, msgid: str
) -> None:
    screen = await juma.dial(key)

    assert screen.text == services.translate("sw", msgid)
    assert screen.labels[-1] == services.translate("sw", "nav.back")


async def cart_of_noodles_and_spaghetti_left(phone: UssdPhone) -> None:
    """3 Indomie Chicken and 5 Spaghetti in the cart, then the call drops."""
    await phone.dial("1")
    await phone.walk("1", "1", "3")
    await phone.choose("Add more products")
    await phone.choose("Spaghetti")
    await phone.press("5")


async def withdraw_chicken_and_cut_spaghetti(services: Services) -> None:
    async with services.db.transaction() as session:
        await session.execute(
            delete(prices).where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
        )
        await session.execute(
            update(stock_levels)
            .where(stock_levels.c.warehouse_id == "WH-LAGOS", stock_levels.c.sku == "NDL-SPAG-500")
            .values(on_hand=2, reserved=0)
        )
    services.pricing.forget()


async def test_the_cart_shortcut_says_what_the_check_of_the_saved_cart_changed(
    ngozi: UssdPhone, services: Services
) -> None:
    await cart_of_noodles_and_spaghetti_left(ngozi)
    await withdraw_chicken_and_cut_spaghetti(services)

    cart = await ngozi.dial("2")

    assert cart.lines[0] == "Cart updated: 1 removed (unavailable), 1 cut to stock."
    assert cart.lines[1] == "Cart (2 items, NGN 30,315.00):"
    assert cart.labels == ["Checkout", "2 x Spaghetti 20x500g", "Back"]


@pytest.mark.parametrize(
    ("key", "title"), [("1", "Choose a category:"), ("3", "You have no orders yet.")]
)
async def test_every_main_menu_shortcut_says_what_the_check_of_the_saved_cart_changed(
    ngozi: UssdPhone, services: Services, key: str, title: str
) -> None:
    await cart_of_noodles_and_spaghetti_left(ngozi)
    await withdraw_chicken_and_cut_spaghetti(services)

    screen = await ngozi.dial(key)

    assert screen.lines[0] == "Cart updated: 1 removed (unavailable), 1 cut to stock."
    assert screen.lines[1] == title
    assert "interrupted" not in screen


async def test_a_shortcut_key_not_on_the_menu_says_the_saved_cart_was_emptied(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial("1")
    await ngozi.walk("1", "1", "3")
    async with services.db.transaction() as session:
        await session.execute(
            delete(prices).where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
        )
    services.pricing.forget()

    screen = await ngozi.dial("9")

    assert screen.lines[:3] == [
        "Cart updated: 1 product removed, no longer available.",
        "Please choose a number from the list.",
        "Welcome to OmniRoute",
    ]
    assert "Cart (0)" in screen.labels
