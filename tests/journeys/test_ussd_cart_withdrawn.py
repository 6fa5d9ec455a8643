"""A product withdrawn, or running low, while it sits in a live session's cart: the cart and the
checkout drop or cut the line and say so, never the apology screen."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, func, select, update

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.tables import products, stock_levels
from engines.orders.tables import orders
from engines.pricing.tables import prices
from tests.support.phone import UssdPhone

NGOZI = Phone("+2348030000001")
LAGOS = RegionCode.LAGOS
CHICKEN = "NDL-INDO-CHK"
SPAGHETTI = "NDL-SPAG-500"


async def noodles_and_spaghetti(phone: UssdPhone) -> None:
    """3 Indomie Chicken and 5 Spaghetti in the cart; the session goes on."""
    await phone.dial()
    await phone.walk("1", "1", "1")
    assert (await phone.press("3")).lines[0] == "Added 3 x Indomie Chicken 40x70g."
    await phone.choose("Add more products")
    await phone.choose("Spaghetti")
    assert (await phone.press("5")).lines[0] == "Added 5 x Spaghetti 20x500g."


async def unpriced(services: Services, sku: str) -> None:
    """The product loses its price in Lagos: it is no longer sold there."""
    async with services.db.transaction() as session:
        await session.execute(delete(prices).where(prices.c.region == "lagos", prices.c.sku == sku))
    services.pricing.forget()


async def off_the_shelf(services: Services, sku: str) -> None:
    """The product is taken out of the Lagos catalogue."""
    async with services.db.transaction() as session:
        await session.execute(
            delete(products).where(products.c.region == "lagos", products.c.sku == sku)
        )
    services.catalogue.forget()
    services.pricing.forget()


async def stock(services: Services, sku: str, on_hand: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(
            update(stock_levels)
            .where(stock_levels.c.warehouse_id == "WH-LAGOS", stock_levels.c.sku == sku)
            .values(on_hand=on_hand, reserved=0)
        )


async def order_count(services: Services) -> int:
    async with services.db.transaction() as session:
        return int((await session.execute(select(func.count()).select_from(orders))).scalar_one())


async def test_cart_opened_after_a_product_lost_its_price_drops_it_and_says_so(
    ngozi: UssdPhone, services: Services
) -> None:
    await noodles_and_spaghetti(ngozi)
    await unpriced(services, CHICKEN)

    cart = await ngozi.choose("View cart")

    assert cart.kind == "CON"
    assert cart.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert cart.lines[1].startswith("Cart (5 items, NGN ")
    assert cart.labels == ["Checkout", "5 x Spaghetti 20x500g", "Back"]
    saved = await services.orders.cart(NGOZI, LAGOS)
    assert [(line.sku, line.quantity) for line in saved.lines] == [(SPAGHETTI, 5)]


async def test_cart_opened_after_a_product_left_the_catalogue_drops_it_and_says_so(
    ngozi: UssdPhone, services: Services
) -> None:
    await noodles_and_spaghetti(ngozi)
    await off_the_shelf(services, CHICKEN)

    cart = await ngozi.choose("View cart")

    assert cart.kind == "CON"
    assert cart.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert cart.labels == ["Checkout", "5 x Spaghetti 20x500g", "Back"]


async def test_cart_from_the_main_menu_whose_only_product_went_is_empty_and_says_why(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial()
    await ngozi.walk("1", "1", "1", "3")
    await ngozi.choose("Add more products")
    assert "Cart (3)" in await ngozi.walk("0", "0", "0")  # the main menu
    await unpriced(services, CHICKEN)

    cart = await ngozi.press("2")

    assert cart.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert cart.lines[1] == "Your cart is empty."
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty


async def test_main_menu_counts_the_cart_the_cart_screen_will_show(
    ngozi: UssdPhone, services: Services
) -> None:
    """'Cart (8)' on the menu opened a cart of 5 once a product went during the session: the
    menu now checks a cart changed since it was last checked, and says what went."""
    await noodles_and_spaghetti(ngozi)
    assert "Cart (8)" in (await ngozi.press("00")).labels  # the main menu
    await ngozi.press("1")  # Shop
    await unpriced(services, CHICKEN)
    await stock(services, SPAGHETTI, 2)

    menu = await ngozi.press("00")

    assert menu.lines[0] == "Cart updated: 1 removed (unavailable), 1 cut to stock."
    assert "Cart (2)" in menu.labels
    cart = await ngozi.press("2")
    assert cart.lines[0].startswith("Cart (2 items, NGN "), cart.body
    assert cart.labels == ["Checkout", "2 x Spaghetti 20x500g", "Back"]


async def test_main_menu_after_adding_counts_without_a_line_sold_out_meanwhile(
    ngozi: UssdPhone, services: Services
) -> None:
    """A cart changed since the session last checked it is checked by the menu, stock too."""
    await ngozi.dial()
    await ngozi.walk("1", "1", "1")
    await ngozi.press("3")  # 3 Indomie Chicken
    await stock(services, CHICKEN, 0)  # sold out to other retailers
    await ngozi.choose("Add more products")
    await ngozi.choose("Spaghetti")
    await ngozi.press("5")

    menu = await ngozi.press("00")

    assert menu.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert "Cart (5)" in menu.labels
    assert (await ngozi.press("2")).labels == ["Checkout", "5 x Spaghetti 20x500g", "Back"]


async def test_cart_opened_after_stock_fell_cuts_the_line_and_says_so(
    ngozi: UssdPhone, services: Services
) -> None:
    await noodles_and_spaghetti(ngozi)
    await stock(services, SPAGHETTI, 2)

    cart = await ngozi.choose("View cart")

    assert cart.lines[0] == "Cart updated: 1 product cut to the stock left."
    assert cart.labels == [
        "Checkout",
        "3 x Indomie Chicken 40x70g",
        "2 x Spaghetti 20x500g",
        "Back",
    ]


async def test_cart_notice_is_in_swahili_for_juma(
    services: Services, client: TestClient[Any, Any]
) -> None:
    juma = UssdPhone(client, "+254711000001")
    await juma.dial()
    await juma.walk("1", "1", "1", "3")
    async with services.db.transaction() as session:
        await session.execute(
            delete(prices).where(prices.c.region == "nairobi", prices.c.sku == CHICKEN)
        )
    services.pricing.forget()

    cart = await juma.press("2")

    assert cart.kind == "CON"
    assert cart.lines[0] == "Kikapu kimesasishwa: bidhaa 1 imeondolewa, haipatikani."


async def test_a_cart_line_picked_after_its_product_went_is_the_cart_saying_so(
    ngozi: UssdPhone, services: Services
) -> None:
    await noodles_and_spaghetti(ngozi)
    await ngozi.choose("View cart")
    await unpriced(services, CHICKEN)

    cart = await ngozi.choose("Indomie Chicken")

    assert cart.kind == "CON"
    assert cart.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert cart.labels == ["Checkout", "5 x Spaghetti 20x500g", "Back"]


async def at_the_quote(phone: UssdPhone) -> None:
    await noodles_and_spaghetti(phone)
    quote = await phone.choose("Checkout")
    assert quote.lines[-4].startswith("Total NGN "), quote.body


async def test_a_product_withdrawn_on_the_quote_screen_is_named_with_the_new_total(
    ngozi: UssdPhone, services: Services
) -> None:
    await at_the_quote(ngozi)
    await unpriced(services, CHICKEN)

    quote = await ngozi.choose("Choose payment")

    assert quote.kind == "CON"
    assert quote.lines[0] == "Indomie Chicken 40x70g removed: no longer sold."
    spaghetti = await services.pricing.quote(LAGOS, [(SPAGHETTI, 5)], customer=NGOZI)
    assert f"Total {spaghetti.total.format()}" in quote.lines
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    done = await ngozi.choose("Confirm")
    assert done.kind == "END"
    assert f"Total {spaghetti.total.format()}" in done.body
    [order] = await services.orders.recent(NGOZI)
    assert [(line.sku, line.quantity) for line in order.lines] == [(SPAGHETTI, 5)]


async def test_a_product_withdrawn_before_confirm_places_nothing_and_shows_the_new_total(
    ngozi: UssdPhone, services: Services
) -> None:
    await at_the_quote(ngozi)
    await ngozi.choose("Choose payment")
    confirm = await ngozi.choose("Pay on delivery")
    assert confirm.lines[0].startswith("Place order for NGN ")
    await off_the_shelf(services, CHICKEN)

    quote = await ngozi.choose("Confirm")

    assert quote.kind == "CON"
    assert quote.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert await order_count(services) == 0
    spaghetti = await services.pricing.quote(LAGOS, [(SPAGHETTI, 5)], customer=NGOZI)
    assert f"Total {spaghetti.total.format()}" in quote.lines
    await ngozi.choose("Choose payment")
    assert (await ngozi.choose("Pay on delivery")).lines[0] == (
        f"Place order for {spaghetti.total.format()}, pay {spaghetti.total.in_cash().format()} cash"
        " on delivery?"
    )
    done = await ngozi.choose("Confirm")
    assert done.kind == "END"
    [order] = await services.orders.recent(NGOZI)
    assert [(line.sku, line.quantity) for line in order.lines] == [(SPAGHETTI, 5)]
    assert order.total == spaghetti.total


async def test_stock_fallen_before_confirm_cuts_the_line_and_reserves_only_what_is_left(
    ngozi: UssdPhone, services: Services
) -> None:
    await at_the_quote(ngozi)
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    await stock(services, SPAGHETTI, 2)

    quote = await ngozi.choose("Confirm")

    assert quote.lines[0] == "Only 2 of Spaghetti 20x500g left: cart cut to 2."
    assert await order_count(services) == 0
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    assert (await ngozi.choose("Confirm")).kind == "END"
    [order] = await services.orders.recent(NGOZI)
    assert sorted((line.sku, line.quantity) for line in order.lines) == [
        (CHICKEN, 3),
        (SPAGHETTI, 2),
    ]
    assert await services.catalogue.available(LAGOS, SPAGHETTI) == 0


async def test_a_product_picked_from_a_list_shown_before_it_was_withdrawn_is_refused_kindly(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial()
    await ngozi.walk("1", "1")
    await unpriced(services, CHICKEN)

    products = await ngozi.choose("Indomie Chicken")

    assert products.kind == "CON"
    assert products.lines[0] == "That product is no longer available."
    assert "Indomie Chicken" not in products


async def test_a_quantity_typed_for_a_product_withdrawn_meanwhile_adds_nothing(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial()
    await ngozi.walk("1", "1", "1")
    await off_the_shelf(services, CHICKEN)

    products = await ngozi.press("three")

    assert products.kind == "CON"
    assert products.lines[0] == "That product is no longer available."
    assert "Indomie Chicken" not in products
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    assert (await ngozi.choose("Indomie Onion")).lines[-2] == "Enter quantity:"
    assert (await ngozi.press("3")).lines[0] == "Added 3 x Indomie Onion 40x70g."


async def test_changing_a_cart_line_whose_product_went_is_the_cart_saying_so(
    ngozi: UssdPhone, services: Services
) -> None:
    await noodles_and_spaghetti(ngozi)
    await ngozi.choose("View cart")
    await ngozi.choose("Indomie Chicken")
    await unpriced(services, CHICKEN)

    cart = await ngozi.choose("Change quantity")

    assert cart.kind == "CON"
    assert cart.lines[0] == "Cart updated: 1 product removed, no longer available."
    assert cart.labels == ["Checkout", "5 x Spaghetti 20x500g", "Back"]


async def test_the_confirm_screen_drawn_again_after_a_withdrawal_names_it_with_the_new_total(
    ngozi: UssdPhone, services: Services
) -> None:
    await at_the_quote(ngozi)
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    await unpriced(services, CHICKEN)

    confirm = await ngozi.press("7")

    spaghetti = await services.pricing.quote(LAGOS, [(SPAGHETTI, 5)], customer=NGOZI)
    assert confirm.lines[:3] == [
        "Please choose a number from the list.",
        "Indomie Chicken 40x70g removed: no longer sold.",
        f"Place order for {spaghetti.total.format()}, pay {spaghetti.total.in_cash().format()} cash"
        " on delivery?",
    ]
    assert await order_count(services) == 0
    done = await ngozi.choose("Confirm")
    assert done.kind == "END"
    assert f"Total {spaghetti.total.format()}" in done.body


async def test_a_cart_line_screen_drawn_again_after_its_product_went_offers_to_remove_it(
    ngozi: UssdPhone, services: Services
) -> None:
    await noodles_and_spaghetti(ngozi)
    await ngozi.choose("View cart")
    await ngozi.choose("Indomie Chicken")
    await off_the_shelf(services, CHICKEN)

    line = await ngozi.press("7")

    assert line.kind == "CON"
    assert line.lines[:2] == [
        "Please choose a number from the list.",
        "That product is no longer available.",
    ]
    cart = await ngozi.choose("Remove")
    assert cart.labels == ["Checkout", "5 x Spaghetti 20x500g", "Back"]
