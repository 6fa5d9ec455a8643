"""The cart over USSD: adding, the quantity mistakes people make, changing and removing lines."""

from __future__ import annotations

import re

import pytest

from core.app.bootstrap import Services
from core.phone import Phone
from core.region import RegionCode
from tests.support.phone import UssdPhone, database_rows

NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
LAGOS = RegionCode.LAGOS
CHICKEN = "NDL-INDO-CHK"
ONION = "NDL-INDO-ONP"


def in_stock(prompt_body: str) -> int:
    return int(re.findall(r"(\d+) in stock", prompt_body)[0])


async def open_quantity_prompt(phone: UssdPhone, product: str = "Indomie Chicken") -> str:
    await phone.choose("Shop")
    await phone.choose("Noodles")
    return (await phone.choose(product)).body


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("0", "The quantity must be at least 1."),
        ("-2", "The quantity must be at least 1."),
        ("abc", "Enter a number, e.g. 3."),
        ("2.5", "Enter a number, e.g. 3."),
        ("99999", "Enter at most 9999."),
        ("stock+1", "Only {stock} left in stock."),
    ],
)
async def test_bad_quantity_shows_the_same_prompt_with_one_reason_and_changes_nothing(
    ngozi: UssdPhone, services: Services, typed: str, reason: str
) -> None:
    await ngozi.dial()
    prompt = await open_quantity_prompt(ngozi)
    stock = in_stock(prompt)
    rows_before = await database_rows(services.db)

    screen = await ngozi.press(str(stock + 1) if typed == "stock+1" else typed)

    assert screen.kind == "CON"
    assert screen.body == f"{reason.format(stock=stock)}\n{prompt}"
    assert await database_rows(services.db) == rows_before
    # Still on the prompt: a good answer now adds exactly that.
    assert (await ngozi.press("2")).lines[0] == "Added 2 x Indomie Chicken 40x70g."
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(CHICKEN) == 2


async def test_one_mistake_after_another_keeps_a_single_reason_line(ngozi: UssdPhone) -> None:
    await ngozi.dial()
    prompt = await open_quantity_prompt(ngozi)

    await ngozi.press("abc")
    screen = await ngozi.press("0")

    assert screen.body == f"The quantity must be at least 1.\n{prompt}"


async def test_stock_limit_counts_what_is_already_in_the_cart(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial()
    stock = in_stock(await open_quantity_prompt(ngozi))
    await ngozi.press(str(stock - 5))
    await ngozi.choose("Add more products")
    prompt = (await ngozi.choose("Indomie Chicken")).body

    screen = await ngozi.press("6")

    assert screen.body == f"Only 5 left in stock.\n{prompt}"
    assert (await services.orders.cart(NGOZI, LAGOS)).quantity_of(CHICKEN) == stock - 5
    assert (await ngozi.press("5")).lines[1] == f"Cart: {stock} items."


async def test_adding_the_same_product_again_adds_to_its_line(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial()
    await open_quantity_prompt(ngozi)
    await ngozi.press("3")
    await ngozi.choose("Add more products")
    await ngozi.choose("Indomie Chicken")

    screen = await ngozi.press("2")

    assert screen.lines[:2] == ["Added 2 x Indomie Chicken 40x70g.", "Cart: 5 items."]
    cart = await services.orders.cart(NGOZI, LAGOS)
    assert [(line.sku, line.quantity) for line in cart.lines] == [(CHICKEN, 5)]


async def fill_cart(phone: UssdPhone) -> None:
    """3 Indomie Chicken and 2 Indomie Onion, then the cart."""
    await phone.dial()
    await open_quantity_prompt(phone)
    await phone.press("3")
    await phone.choose("Add more products")
    await phone.choose("Indomie Onion")
    await phone.press("2")
    await phone.choose("View cart")


async def test_cart_lists_its_lines_with_checkout_first(ngozi: UssdPhone) -> None:
    await fill_cart(ngozi)

    assert ngozi.screen.text == "Cart (5 items, NGN 46,988.25):"
    assert ngozi.screen.options == [
        ("1", "Checkout"),
        ("2", "3 x Indomie Chicken 40x70g"),
        ("3", "2 x Indomie Onion 40x70g"),
        ("0", "Back"),
    ]


async def test_change_quantity_of_a_cart_line(ngozi: UssdPhone, services: Services) -> None:
    await fill_cart(ngozi)
    line = await ngozi.choose("Indomie Chicken")
    assert line.lines[:2] == ["3 x Indomie Chicken 40x70g", "NGN 9,300.00 each"]
    prompt = await ngozi.choose("Change quantity")
    assert prompt.lines == [
        "Indomie Chicken 40x70g",
        "You have 3. Enter the new quantity:",
        "00. Back",
    ]

    screen = await ngozi.press("7")

    assert screen.lines[0] == "Cart updated."
    assert screen.lines[1].startswith("Cart (9 items, ")
    assert "7 x Indomie Chicken 40x70g" in screen.labels
    cart = await services.orders.cart(NGOZI, LAGOS)
    assert [(line.sku, line.quantity) for line in cart.lines] == [(CHICKEN, 7), (ONION, 2)]


async def test_changing_a_line_refuses_bad_quantities_and_keeps_it(
    ngozi: UssdPhone, services: Services
) -> None:
    await fill_cart(ngozi)
    await ngozi.choose("Indomie Chicken")
    prompt = (await ngozi.choose("Change quantity")).body

    for typed, reason in [("abc", "Enter a number, e.g. 3."), ("0", None), ("99999", None)]:
        screen = await ngozi.press(typed)
        assert screen.body.endswith(prompt)
        assert len(screen.lines) == len(prompt.splitlines()) + 1
        if reason:
            assert screen.lines[0] == reason
    cart = await services.orders.cart(NGOZI, LAGOS)
    assert cart.quantity_of(CHICKEN) == 3


async def test_remove_a_cart_line(ngozi: UssdPhone, services: Services) -> None:
    await fill_cart(ngozi)
    await ngozi.choose("Indomie Chicken")

    screen = await ngozi.choose("Remove")

    assert screen.lines[0] == "Item removed."
    assert screen.lines[1].startswith("Cart (2 items, ")
    assert "3 x Indomie Chicken 40x70g" not in screen
    cart = await services.orders.cart(NGOZI, LAGOS)
    assert [(line.sku, line.quantity) for line in cart.lines] == [(ONION, 2)]


async def test_removing_the_last_line_leaves_an_empty_cart(
    ngozi: UssdPhone, services: Services
) -> None:
    await ngozi.dial()
    await open_quantity_prompt(ngozi)
    await ngozi.press("3")
    await ngozi.choose("View cart")
    await ngozi.choose("Indomie Chicken")

    screen = await ngozi.choose("Remove")

    assert screen.lines[:2] == ["Item removed.", "Your cart is empty."]
    assert (await services.orders.cart(NGOZI, LAGOS)).is_empty
    assert "Choose a category:" in await ngozi.choose("Shop")
    await ngozi.press("00")
    assert "Cart (0)" in ngozi.screen.labels


async def test_cancel_at_confirm_keeps_the_cart_and_places_nothing(
    ngozi: UssdPhone, services: Services
) -> None:
    await fill_cart(ngozi)
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")

    screen = await ngozi.choose("Cancel")

    assert screen.lines[:2] == ["Order not placed. Your cart is kept.", "Welcome to OmniRoute"]
    assert "Cart (5)" in screen.labels
    assert await services.orders.recent(NGOZI) == []
    assert (await services.orders.cart(NGOZI, LAGOS)).item_count == 5


@pytest.mark.parametrize("count", [5, 12])
async def test_long_cart_with_a_notice_still_shows_every_line_once(
    ngozi: UssdPhone, services: Services, count: int
) -> None:
    """The notice above the cart can change where its pages break; 98 must follow the shown."""
    categories = await services.catalogue.categories(LAGOS)
    shelf = [p for c in categories for p in await services.catalogue.products(LAGOS, c.id)]
    shelf = shelf[:count]
    cart = await services.orders.cart(NGOZI, LAGOS)
    for product in shelf:
        cart = cart.with_quantity(product.sku, 1)
    await services.orders.save_cart(cart)
    expected = ["Checkout", f"2 x {shelf[0].name}", *(f"1 x {p.name}" for p in shelf[1:])]

    await ngozi.dial()
    await ngozi.choose("Continue with cart")
    await ngozi.choose(shelf[0].name)
    await ngozi.choose("Change quantity")
    assert (await ngozi.press("2")).lines[0] == "Cart updated."
    pages = await ngozi.page_through()

    assert len(pages) >= 2
    listed = [label for page in pages for key, label in page.options if key not in {"98", "0"}]
    assert listed == expected
    # A key on the last page picks that page's line.
    key, label = next((k, lb) for k, lb in pages[-1].options if " x " in lb)
    assert (await ngozi.press(key)).lines[0] == label
