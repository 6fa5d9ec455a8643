"""Finding the way around: wrong keys, Back and Home, and lists longer than one screen."""

from __future__ import annotations

import pytest

from core.app.bootstrap import Services
from core.region import RegionCode
from tests.support.phone import UssdPhone
from tests.support.shelf import EXTRA, stock_the_noodle_shelf

LAGOS = RegionCode.LAGOS
MAIN_MENU = ["Shop", "Cart (0)", "My orders", "Language", "Help"]


@pytest.mark.parametrize("key", ["7", "6", "x", "0", "1.", "menu please"])
async def test_invalid_menu_choice_shows_the_menu_again_with_a_reason(
    ngozi: UssdPhone, key: str
) -> None:
    menu = await ngozi.dial()
    assert menu.labels == MAIN_MENU

    screen = await ngozi.press(key)

    assert screen.kind == "CON"
    assert screen.lines == ["Please choose a number from the list.", *menu.lines]
    # Nothing moved: the menu's own keys still work from here.
    assert "Choose a category:" in await ngozi.choose("Shop")


async def test_invalid_choice_on_a_list_shows_the_list_again(ngozi: UssdPhone) -> None:
    await ngozi.dial()
    await ngozi.choose("Shop")
    products_screen = await ngozi.choose("Noodles")

    screen = await ngozi.press("x")

    assert screen.lines[0] == "Please choose a number from the list."
    assert screen.lines[1] == "Noodles & Pasta:"
    shown = [label for key, label in screen.options if key not in {"98", "0"}]
    assert shown == products_screen.labels[: len(shown)]
    assert ("0", "Back") in screen.options
    assert "Indomie Chicken 40x70g\nNGN 9,300 per carton" in await ngozi.press("1")


async def test_every_key_offered_after_an_invalid_choice_works(ngozi: UssdPhone) -> None:
    """The reason line can push options onto a second page; its 98 must then lead there."""
    await ngozi.dial()
    categories = await ngozi.choose("Shop")
    assert "98. More" not in categories

    rejected = await ngozi.press("9")
    assert rejected.lines[0] == "Please choose a number from the list."
    assert "98. More" in rejected  # the reason line pushed the last categories over

    more = await ngozi.press("98")

    assert "Please choose a number from the list." not in more
    shown = set(rejected.labels) | set(more.labels)
    assert set(categories.labels) <= shown


async def test_back_goes_up_one_screen_at_a_time(ngozi: UssdPhone) -> None:
    main = await ngozi.dial()
    categories = await ngozi.choose("Shop")
    await ngozi.choose("Noodles")

    assert (await ngozi.press("0")).body == categories.body
    assert (await ngozi.press("0")).body == main.body


@pytest.mark.parametrize("item", ["Cart", "My orders", "Language", "Help"])
async def test_back_from_each_main_menu_item_returns_to_the_menu(
    ngozi: UssdPhone, item: str
) -> None:
    main = await ngozi.dial()
    screen = await ngozi.choose(item)
    assert ("0", "Back") in screen.options

    assert (await ngozi.press("0")).body == main.body


async def test_back_from_a_cart_line_returns_to_the_cart(ngozi: UssdPhone) -> None:
    await ngozi.dial()
    await ngozi.walk("1", "1", "1", "3")
    cart = await ngozi.choose("View cart")
    await ngozi.choose("Indomie Chicken")

    assert (await ngozi.press("0")).body == cart.body


@pytest.mark.parametrize("home", ["00", "menu", "home", "HOME"])
async def test_home_from_deep_in_checkout_returns_to_the_main_menu(
    ngozi: UssdPhone, home: str
) -> None:
    await ngozi.dial()
    await ngozi.walk("1", "1", "1", "3")
    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")

    screen = await ngozi.press(home)

    assert screen.text == "Welcome to OmniRoute"
    assert screen.labels == ["Shop", "Cart (3)", "My orders", "Language", "Help"]
    # Home is a fresh start: Back from the menu has nowhere further up to go.
    assert (await ngozi.press("0")).lines[0] == "Please choose a number from the list."


async def test_back_and_home_keywords_in_swahili(juma: UssdPhone) -> None:
    main = await juma.dial()
    categories = await juma.choose("Nunua")
    await juma.choose("Tambi")

    assert (await juma.press("rudi")).body == categories.body
    await juma.choose("Tambi")
    assert (await juma.press("mwanzo")).body == main.body


async def test_home_from_the_quantity_prompt(ngozi: UssdPhone) -> None:
    main = await ngozi.dial()
    await ngozi.walk("1", "1", "1")

    assert (await ngozi.press("menu")).body == main.body


async def test_00_on_the_quantity_prompt_goes_back_to_the_products(ngozi: UssdPhone) -> None:
    """The prompt offers '00. Back' (0 is a quantity there), so 00 is Back, not Home, on it."""
    await ngozi.dial()
    await ngozi.choose("Shop")
    products_screen = await ngozi.choose("Noodles")
    prompt = await ngozi.choose("Indomie Chicken")
    assert ("00", "Back") in prompt.options

    assert (await ngozi.press("00")).body == products_screen.body


@pytest.mark.parametrize(
    ("retailer", "shop", "help_", "prompt_back"),
    [
        (
            "ngozi",
            "Shop",
            "Order stock and pay on delivery. 0 goes back, 00 to the main menu; where you type a "
            "number or code, 00 goes back. Help line: 0800 123 456.",
            ("00", "Back"),
        ),
        (
            "juma",
            "Nunua",
            "Agiza bidhaa kwa simu yako na ulipe ukipokea. 0 kurudi, 00 menyu kuu; unapoandika "
            "idadi au msimbo, 00 kurudi. Msaada: 0800 123 456.",
            ("00", "Rudi"),
        ),
    ],
)
async def test_help_says_00_goes_back_where_you_type_as_the_prompt_does(
    ngozi: UssdPhone,
    juma: UssdPhone,
    retailer: str,
    shop: str,
    help_: str,
    prompt_back: tuple[str, str],
) -> None:
    """Help told retailers 00 is the main menu everywhere; on a screen that takes typing (a
    quantity, a promo code) 00 is Back, as that screen itself says."""
    phone = {"ngozi": ngozi, "juma": juma}[retailer]
    main = await phone.dial()
    help_screen = await phone.choose(main.labels[-1])
    assert help_screen.text == help_

    await phone.press("0")
    await phone.choose(shop)
    products_screen = await phone.press("1")
    prompt = await phone.press("1")
    assert prompt_back in prompt.options
    assert (await phone.press("00")).body == products_screen.body


# --- paging -----------------------------------------------------------------------------------


async def test_long_list_pages_with_more_and_back_showing_every_item_once(
    ngozi: UssdPhone, services: Services
) -> None:
    await stock_the_noodle_shelf(services)
    shelf = await services.catalogue.products(LAGOS, "noodles")
    price = await services.pricing.list_prices(LAGOS, [p.sku for p in shelf])
    expected = [f"{p.name} {price[p.sku].short()}" for p in shelf]
    assert len(expected) == 4 + EXTRA

    await ngozi.dial()
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    pages = await ngozi.page_through()

    assert len(pages) >= 3
    listed = []
    for page in pages:
        assert page.text == "Noodles & Pasta:"
        assert page.options[-1] == ("0", "Back")
        assert (("98", "More") in page.options) == (page is not pages[-1])
        items = [(k, label) for k, label in page.options if k not in {"98", "0"}]
        assert [k for k, _ in items] == [str(n) for n in range(1, len(items) + 1)]
        listed += [label for _, label in items]
    assert listed == expected

    # A key on a later page picks that page's item; 0 steps back a page, then up a screen.
    first_on_last_page = pages[-1].options[0][1].split(" NGN")[0]
    assert (await ngozi.press("1")).lines[0] == first_on_last_page
    await ngozi.press("menu")
    await ngozi.choose("Shop")
    await ngozi.choose("Noodles")
    await ngozi.press("98")
    assert (await ngozi.press("0")).body == pages[0].body
    assert (await ngozi.press("0")).text == "Choose a category:"
