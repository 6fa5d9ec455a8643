"""A dropped call keeps the cart: dialling again offers to carry on or start afresh."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, update

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.tables import stock_levels
from engines.pricing.tables import prices
from tests.support.phone import UssdPhone

NGOZI = Phone("+2348030000001")
LAGOS = RegionCode.LAGOS
RESUME = "Welcome back! Your cart has 3 items, NGN 26,993.25."


async def drop_with_three_noodles(phone: UssdPhone) -> None:
    """Dial, put 3 Indomie Chicken in the cart, and lose the call on the "Added" screen."""
    await phone.dial()
    await phone.walk("1", "1", "1")
    assert (await phone.press("3")).lines[0] == "Added 3 x Indomie Chicken 40x70g."


async def test_dialling_again_after_a_drop_offers_the_cart(ngozi: UssdPhone) -> None:
    await drop_with_three_noodles(ngozi)

    screen = await ngozi.dial()

    assert screen.kind == "CON"
    assert screen.text == RESUME
    assert screen.options == [("1", "Continue with cart"), ("2", "Start a new cart")]


async def test_continue_with_cart_shows_the_cart_and_can_check_out(
    ngozi: UssdPhone, services: Services
) -> None:
    await drop_with_three_noodles(ngozi)
    await ngozi.dial()

    cart = await ngozi.choose("Continue with cart")

    assert cart.text == "Cart (3 items, NGN 26,993.25):"
    assert cart.labels == ["Checkout", "3 x Indomie Chicken 40x70g", "Back"]
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    done = await ngozi.choose("Confirm")
    assert done.kind == "END"
    assert "Total NGN 26,993.25" in done
    assert len(await services.orders.recent(NGOZI)) == 1
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty


async def test_back_from_the_resumed_cart_goes_to_the_main_menu(ngozi: UssdPhone) -> None:
    await drop_with_three_noodles(ngozi)
    await ngozi.dial()
    await ngozi.choose("Continue with cart")

    screen = await ngozi.press("0")

    assert screen.text == "Welcome to OmniRoute"
    assert "Cart (3)" in screen.labels


async def test_start_a_new_cart_empties_it(ngozi: UssdPhone, services: Services) -> None:
    await drop_with_three_noodles(ngozi)
    await ngozi.dial()

    screen = await ngozi.choose("Start a new cart")

    assert screen.text == "Welcome to OmniRoute"
    assert "Cart (0)" in screen.labels
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    assert (await ngozi.dial()).text == "Welcome to OmniRoute"


async def test_invalid_choice_on_the_resume_screen_asks_again(ngozi: UssdPhone) -> None:
    await drop_with_three_noodles(ngozi)
    offer = await ngozi.dial()

    screen = await ngozi.press("3")

    assert screen.lines == ["Please choose a number from the list.", *offer.lines]


async def test_session_lost_mid_call_says_so_and_offers_the_cart(
    ngozi: UssdPhone, clock: SteppedClock
) -> None:
    await drop_with_three_noodles(ngozi)
    clock.advance(181)  # past OMNIROUTE_USSD_SESSION_TTL_SECONDS

    screen = await ngozi.choose("View cart")

    assert screen.lines[0] == "Sorry, your session was interrupted."
    assert screen.lines[1] == RESUME
    assert screen.labels == ["Continue with cart", "Start a new cart"]


async def test_a_cart_older_than_a_day_is_not_offered(
    ngozi: UssdPhone, services: Services, clock: SteppedClock
) -> None:
    await drop_with_three_noodles(ngozi)
    clock.advance(86_400 + 1)  # past OMNIROUTE_CART_TTL_SECONDS

    screen = await ngozi.dial()

    assert screen.text == "Welcome to OmniRoute"
    assert "Cart (0)" in screen.labels
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty


async def drop_with_noodles_and_spaghetti(phone: UssdPhone) -> None:
    """3 Indomie Chicken and 5 Spaghetti in the cart, then the call drops."""
    await drop_with_three_noodles(phone)
    await phone.choose("Add more products")
    await phone.choose("Spaghetti")
    assert (await phone.press("5")).lines[0] == "Added 5 x Spaghetti 20x500g."


async def withdraw(services: Services, sku: str) -> None:
    """The product loses its price in Lagos: it is no longer sold there."""
    async with services.db.transaction() as session:
        await session.execute(delete(prices).where(prices.c.region == "lagos", prices.c.sku == sku))
    services.pricing.forget()


async def stock(services: Services, sku: str, on_hand: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(
            update(stock_levels)
            .where(stock_levels.c.warehouse_id == "WH-LAGOS", stock_levels.c.sku == sku)
            .values(on_hand=on_hand, reserved=0)
        )


async def test_resumed_cart_drops_a_withdrawn_product_and_caps_a_line_at_the_stock_left(
    ngozi: UssdPhone, services: Services
) -> None:
    await drop_with_noodles_and_spaghetti(ngozi)
    await withdraw(services, "NDL-INDO-CHK")
    await stock(services, "NDL-SPAG-500", 2)

    offer = await ngozi.dial()

    assert offer.kind == "CON"
    assert offer.lines[0] == "Cart updated: 1 removed (unavailable), 1 cut to stock."
    assert offer.lines[1].startswith("Welcome back! Your cart has 2 items, NGN ")
    assert len(offer.body) <= 182
    cart = await services.orders.cart(NGOZI, LAGOS)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("NDL-SPAG-500", 2)]
    shown = await ngozi.choose("Continue with cart")
    assert shown.labels == ["Checkout", "2 x Spaghetti 20x500g", "Back"]


async def test_resumed_cart_whose_every_line_is_gone_is_the_main_menu_saying_why(
    ngozi: UssdPhone, services: Services
) -> None:
    await drop_with_three_noodles(ngozi)
    await stock(services, "NDL-INDO-CHK", 0)

    screen = await ngozi.dial()

    assert screen.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert screen.lines[1] == "Welcome to OmniRoute"
    assert "Cart (0)" in screen.labels
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty


async def test_resume_notice_is_in_swahili_for_juma(
    services: Services, client: TestClient[Any, Any]
) -> None:
    juma = UssdPhone(client, "+254711000001")
    await juma.dial()
    await juma.walk("1", "1", "1")
    await juma.press("3")
    async with services.db.transaction() as session:
        await session.execute(
            update(stock_levels).where(stock_levels.c.sku == "NDL-INDO-CHK").values(on_hand=1)
        )

    offer = await juma.dial()

    assert offer.lines[0] == "Kikapu kimesasishwa: bidhaa 1 imepunguzwa hadi kilichopo."
    assert offer.lines[1].startswith("Karibu tena! Kikapu chako kina bidhaa 1, KES ")


async def test_a_product_withdrawn_while_the_offer_is_read_does_not_fail_it(
    ngozi: UssdPhone, services: Services
) -> None:
    await drop_with_noodles_and_spaghetti(ngozi)
    await ngozi.dial()
    await withdraw(services, "NDL-INDO-CHK")

    offer = await ngozi.press("7")

    assert offer.kind == "CON"
    assert offer.lines[:2] == [
        "Please choose a number from the list.",
        "Cart updated: 1 product removed, no longer available.",
    ]
    assert offer.lines[2].startswith("Welcome back! Your cart has 5 items, NGN ")
    cart = await ngozi.choose("Continue with cart")
    assert cart.labels == ["Checkout", "5 x Spaghetti 20x500g", "Back"]
