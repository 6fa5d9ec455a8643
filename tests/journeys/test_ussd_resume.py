"""A dropped call keeps the cart: dialling again offers to carry on or start afresh."""

from __future__ import annotations

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.phone import Phone
from core.region import RegionCode
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
