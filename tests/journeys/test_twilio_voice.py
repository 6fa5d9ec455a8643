"""Ngozi orders by phone call through Twilio: each screen read out in a `<Say>` inside a
`<Gather>`, each key pressed posted to the gather's action, the last screen said and hung up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.app.bootstrap import Services
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode
from tests.support.ports import free_port
from tests.support.providers.twilio import (
    VOICE_PATH,
    TwilioCaller,
    TwilioWebhooks,
    twilio_gateway,
    twilio_settings,
)

NGOZI = Phone("+2348030000001")
INDOMIE = "NDL-INDO-CHK"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, port: int) -> Settings:
    return twilio_settings(database_url, public_url=f"http://127.0.0.1:{port}")


@pytest.fixture
async def twilio(services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
    async with twilio_gateway(services, port) as webhooks:
        yield webhooks


@pytest.fixture
def ngozi(twilio: TwilioWebhooks) -> TwilioCaller:
    return TwilioCaller(twilio, NGOZI.e164)


async def test_ngozi_orders_noodles_by_pressing_keys(
    ngozi: TwilioCaller, twilio: TwilioWebhooks, services: Services
) -> None:
    welcome = await ngozi.call()
    assert welcome.say.startswith("Welcome to OmniRoute. Press 1 for Shop. Press 2 for Cart (0).")
    assert welcome.gather is not None
    assert welcome.gather["numDigits"] == "1"

    categories = await ngozi.press("1")
    assert categories.say.startswith("Choose a category. Press 1 for Noodles & Pasta.")
    assert categories.say.endswith("Press 0 for Back.")
    products = await ngozi.press("1")
    assert "Press 1 for Indomie Chicken 40x70g NGN 9,300." in products.say
    prompt = await ngozi.press("1")
    assert "Enter quantity. Then press hash. Press 0 0 then hash for Back." in prompt.say
    added = await ngozi.press("3")
    assert added.say.startswith("Added 3 x Indomie Chicken 40x70g.")
    quote = await ngozi.choose("Checkout")
    assert "Total NGN 26,993.25." in quote.say
    await ngozi.choose("Choose payment")
    confirm = await ngozi.choose("Pay on delivery")
    assert confirm.say.startswith(
        "Place order for NGN 26,993.25, pay NGN 26,993.00 cash on delivery?"
    )

    placed = await ngozi.choose("Confirm")

    [order] = await services.orders.recent(NGOZI)
    assert placed.say.startswith(f"Order {order.reference} placed. Total NGN 26,993.25")
    assert placed.hangup
    assert placed.gather is None
    # Each answer went to the action of the screen before it, one turn further each time.
    actions = [turn.action for turn in ngozi.turns[:-1]]
    assert actions == [twilio.url(f"{VOICE_PATH}?turn={n}") for n in range(1, len(actions) + 1)]
    assert await services.store.load(f"twilio-voice:{ngozi.call_sid}") is None


async def test_retried_key_presses_apply_once(ngozi: TwilioCaller, services: Services) -> None:
    await ngozi.call()
    await ngozi.press("1")
    await ngozi.press("1")
    await ngozi.press("1")
    added = await ngozi.press("3")

    assert await ngozi.retry() == added
    assert (await services.orders.cart(NGOZI, RegionCode.LAGOS)).quantity_of(INDOMIE) == 3

    await ngozi.choose("Checkout")
    await ngozi.choose("Choose payment")
    await ngozi.choose("Pay on delivery")
    placed = await ngozi.choose("Confirm")
    assert await ngozi.retry() == placed
    assert len(await services.orders.recent(NGOZI)) == 1


async def test_two_calls_from_one_phone_are_two_conversations(
    twilio: TwilioWebhooks, services: Services
) -> None:
    first = TwilioCaller(twilio, NGOZI.e164)
    second = TwilioCaller(twilio, NGOZI.e164)
    await first.call()
    await first.press("1")

    greeting = await second.call()

    assert greeting.say.startswith("Welcome to OmniRoute.")
    first_session = await services.store.load(f"twilio-voice:{first.call_sid}")
    assert first_session is not None
    assert first_session.state == "categories"
