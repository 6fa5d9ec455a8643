"""Ngozi enters the WELCOME promo code at checkout, pays what the quote said, and cannot use it
twice; a price held too long is quoted again before the order is placed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.phone import Phone
from engines.pricing.tables import promotions
from tests.contract.channels.web.chat import WebChat
from tests.support.phone import Screen, UssdPhone

NGOZI = Phone("+2348030000001")
WITH_CODE = (
    "Subtotal NGN 27,900.00\n"
    "Promotion -NGN 2,790.00\n"
    "Code WELCOME -NGN 1,255.50\n"
    "VAT 7.5% NGN 1,789.09\n"
    "Total NGN 25,643.59"
)


async def to_quote(ngozi: UssdPhone) -> Screen:
    """Three cartons of Indomie, then Checkout: the quote screen."""
    await ngozi.dial()
    await ngozi.walk("1", "1", "1")
    await ngozi.press("3")
    return await ngozi.choose("Checkout")


async def test_the_promo_code_shows_on_the_quote_and_the_order_pays_that_total(
    ngozi: UssdPhone, services: Services
) -> None:
    quote = await to_quote(ngozi)
    assert quote.labels == ["Choose payment", "Promo code", "Back"]

    prompt = await ngozi.choose("Promo code")
    assert prompt.text == "Enter your promo code, or 0 to go without one:"
    refused = await ngozi.press("NOPE1")
    assert refused.lines[0] == "Code NOPE1 is not valid."
    with_code = await ngozi.press(" welcome ")
    assert with_code.text == WITH_CODE
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    done = await ngozi.choose("Confirm")

    [order] = await services.orders.recent(NGOZI)
    assert done.body == (
        f"Order {order.reference} placed. Total NGN 25,643.59. Pay NGN 25,644.00 in cash at the"
        " door. Thank you!"
    )
    assert order.voucher == "WELCOME"
    assert order.price_lock_id is not None
    assert order.total.amount == Decimal("25643.59")

    # Once per customer: the next cart's code is refused, and the quote goes on without it.
    await to_quote(ngozi)
    await ngozi.choose("Promo code")
    used = await ngozi.press("WELCOME")
    assert used.lines[0] == "Code WELCOME has been used up."
    skipped = await ngozi.press("0")
    assert skipped.lines[0] == "No promo code."
    assert "Total NGN 26,993.25" in skipped


async def test_a_price_held_too_long_is_quoted_again_before_ordering(
    client: TestClient[object, object], services: Services, clock: SteppedClock
) -> None:
    """On a chat (a USSD session ends long before a 15-minute hold does)."""
    web = WebChat(client, NGOZI.e164)
    await web.send("hi")
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await web.choose(label)
    await web.send("3")
    await web.choose("Checkout")
    await web.choose("Choose payment")  # the price is held for 15 minutes
    await web.choose("Pay on delivery")
    clock.advance(15 * 60)

    requote = await web.choose("Confirm")

    # The same total: nothing to warn about.
    assert requote["text"].splitlines()[0] == "Subtotal NGN 27,900.00"
    assert "Prices changed" not in requote["text"]
    assert requote["text"].endswith("Total NGN 26,993.25")
    assert await services.orders.recent(NGOZI) == []
    await web.choose("Choose payment")
    await web.choose("Pay on delivery")
    done = await web.choose("Confirm")
    assert done["end"] is True
    assert len(await services.orders.recent(NGOZI)) == 1


async def test_a_price_that_changed_while_it_was_held_too_long_is_said_so(
    client: TestClient[object, object], services: Services, clock: SteppedClock
) -> None:
    """Noodle week ends while Ngozi's 15-minute hold runs out: the new total comes with a line."""
    web = WebChat(client, NGOZI.e164)
    await web.send("hi")
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await web.choose(label)
    await web.send("3")
    await web.choose("Checkout")
    await web.choose("Choose payment")
    await web.choose("Pay on delivery")
    async with services.db.transaction() as session:
        await session.execute(
            update(promotions)
            .where(promotions.c.id == "NOODLE-WEEK-LAGOS")
            .values(ends_at=clock.now() + timedelta(minutes=10))
        )
    services.pricing.forget()
    clock.advance(15 * 60)

    requote = await web.choose("Confirm")

    assert requote["text"].splitlines()[0] == "Prices changed. Check the new total."
    assert requote["text"].endswith("Total NGN 29,992.50")
    assert await services.orders.recent(NGOZI) == []


async def test_a_code_the_handset_cannot_show_is_refused_on_a_screen_it_can(
    ngozi: UssdPhone,
) -> None:
    """A smart keyboard's curly quote, an emoji, or an à (upper-cased to À, not GSM-7)."""
    await to_quote(ngozi)
    await ngozi.choose("Promo code")
    for typed, shown in (("WELCOME’", "WELCOME?"), ("voilà", "VOIL?"), ("ok😀", "OK?")):
        refused = await ngozi.press(typed)
        assert refused.kind == "CON"
        assert refused.lines[0] == f"Code {shown} is not valid."
        assert refused.text.endswith("Enter your promo code, or 0 to go without one:")
    with_code = await ngozi.press("WELCOME")
    assert with_code.text == WITH_CODE


async def test_a_promo_code_outlives_a_dropped_session_and_the_resumed_quote_carries_it(
    ngozi: UssdPhone, services: Services
) -> None:
    """The cart survives a drop; the code entered at its checkout did not."""
    await to_quote(ngozi)
    await ngozi.choose("Promo code")
    assert (await ngozi.press("WELCOME")).text == WITH_CODE

    offer = await ngozi.dial()  # the call dropped: a new sessionId
    assert offer.text == "Welcome back! Your cart has 3 items, NGN 25,643.59."
    await ngozi.choose("Continue with cart")
    quote = await ngozi.choose("Checkout")

    assert quote.text == WITH_CODE
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    done = await ngozi.choose("Confirm")
    [order] = await services.orders.recent(NGOZI)
    assert "Total NGN 25,643.59" in done
    assert order.voucher == "WELCOME"


async def test_a_promotion_ended_while_the_session_was_dropped_is_said_in_one_line(
    ngozi: UssdPhone, services: Services, clock: SteppedClock
) -> None:
    await to_quote(ngozi)
    await ngozi.choose("Promo code")
    await ngozi.press("WELCOME")
    async with services.db.transaction() as session:
        await session.execute(
            update(promotions)
            .where(promotions.c.code == "WELCOME")
            .values(ends_at=clock.now() + timedelta(minutes=5))
        )
    clock.advance(10 * 60)

    await ngozi.dial()
    await ngozi.choose("Continue with cart")
    quote = await ngozi.choose("Checkout")

    assert quote.lines[0] == "Code WELCOME has expired."
    assert quote.text.endswith("Total NGN 26,993.25")
    await ngozi.press("0")
    again = await ngozi.choose("Checkout")  # said once: the code is gone from the cart
    assert again.lines[:4] == [
        "Subtotal NGN 27,900.00",
        "Promotion -NGN 2,790.00",
        "VAT 7.5% NGN 1,883.25",
        "Total NGN 26,993.25",
    ]


async def test_a_code_that_ends_on_the_quote_screen_says_why_it_was_dropped(
    ngozi: UssdPhone, services: Services, clock: SteppedClock
) -> None:
    """WELCOME ends while Ngozi reads her quote: Choose payment takes it off with the reason,
    as the quote screen does, not a bare "Prices changed" over a quote without the code."""
    await to_quote(ngozi)
    await ngozi.choose("Promo code")
    assert (await ngozi.press("WELCOME")).text == WITH_CODE
    async with services.db.transaction() as session:
        await session.execute(
            update(promotions)
            .where(promotions.c.code == "WELCOME")
            .values(ends_at=clock.now() + timedelta(seconds=10))
        )
    services.pricing.forget()
    clock.advance(20)

    dropped = await ngozi.choose("Choose payment")

    assert dropped.lines[0] == "Code WELCOME has expired."
    assert dropped.text.endswith("Total NGN 26,993.25")
    assert dropped.labels == ["Choose payment", "Promo code", "Back"]
