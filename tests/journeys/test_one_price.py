"""One price everywhere: any cart, for any customer, quotes the same total on USSD, SMS,
WhatsApp and GraphQL, through the real endpoints (Africa's Talking USSD, Twilio SMS and
WhatsApp, signed as Twilio signs; /graphql), with or without the promo code, and equal to the
engine's quote.

The carts cover list, segment (wholesale) and contract prices, quantity tiers, the demo's
promotions (percentage, buy 10 get 1, the breakfast bundle, free delivery) and delivery zones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.app.bootstrap import Services
from core.app.demo import CUSTOMERS, PRODUCTS
from core.clock import SteppedClock
from core.config import Settings
from core.phone import Phone
from core.region import RegionCode, region_for_phone
from engines.orders import Cart, CartLine
from engines.pricing import InvalidVoucherError
from tests.support.graphql import bearer, gql_session, run
from tests.support.phone import UssdPhone
from tests.support.ports import free_port
from tests.support.providers.twilio import (
    TwilioChat,
    TwilioWebhooks,
    twilio_gateway,
    twilio_settings,
)

PHONES = [phone for people in CUSTOMERS.values() for phone, _name in people]
SKUS = [p.sku for p in PRODUCTS]


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


carts = st.tuples(
    st.sampled_from(PHONES),
    st.dictionaries(
        st.sampled_from(SKUS),
        st.integers(1, 60),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)


def total_line(screen: str) -> str:
    """The quote's last line, just above the menu: the total, in any language."""
    return screen.split("\n1. ", maxsplit=1)[0].splitlines()[-1]


def vat_line(screen: str) -> str:
    [line] = [ln for ln in screen.splitlines() if ln.startswith("VAT ")]
    return line


async def quote_by_chat(chat: TwilioChat, voucher: bool) -> str:
    """hi -> continue with the cart -> checkout [-> promo code WELCOME]: the quote screen."""
    await chat.send("hi")
    await chat.send("1")  # Continue with cart
    screen = await chat.send("1")  # Checkout
    if voucher:
        await chat.send("2")  # Promo code
        screen = await chat.send("welcome")
        if "\n00. " in screen:  # refused (nothing it applies to): go on without a code
            screen = await chat.send("0")
    return screen


async def quote_by_ussd(phone: UssdPhone, voucher: bool) -> str:
    await phone.dial()
    await phone.press("1")
    screen = await phone.press("1")
    if voucher:
        await phone.press("2")
        screen = await phone.press("welcome")
        if "\n00. " in screen.body:
            screen = await phone.press("0")
    assert screen.kind == "CON"
    return screen.body


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink would take minutes
)
@given(case=carts)
# Bola buys wholesale and pays delivery: noodles (promotion + code), tiers, cola 10+1 and the
# breakfast bundle, on a 160-character SMS.
@example(
    case=(
        "+2348030000002",
        {"NDL-INDO-CHK": 55, "DRK-COLA-35": 22, "DRY-MILK-400": 1, "DRY-TEA-100": 1},
        True,
    )
)
@example(case=("+27821000002", {"RCE-LONG-25K": 3, "NDL-SPAG-500": 4}, True))
async def test_the_same_cart_quotes_the_same_total_on_every_channel_and_graphql(
    twilio: TwilioWebhooks,
    services: Services,
    clock: SteppedClock,
    case: tuple[str, dict[str, int], bool],
) -> None:
    number, lines, voucher = case
    customer = Phone(number)
    region = region_for_phone(customer).code
    clock.advance(3_600)  # earlier examples' conversations are over
    await services.orders.save_cart(
        Cart(customer, region, tuple(CartLine(sku, q) for sku, q in lines.items()))
    )
    code = "WELCOME" if voucher else None
    try:
        engine = await services.pricing.quote(
            region, list(lines.items()), customer=customer, voucher=code
        )
    except InvalidVoucherError:  # nothing in the cart for the code: every channel says so
        code = None
        engine = await services.pricing.quote(region, list(lines.items()), customer=customer)

    ussd = await quote_by_ussd(UssdPhone(twilio.client, number), voucher)
    sms = await quote_by_chat(TwilioChat(twilio, number, kind="sms"), voucher)
    whatsapp = await quote_by_chat(TwilioChat(twilio, number, kind="whatsapp"), voucher)

    expected = engine.total.format()
    assert total_line(ussd).endswith(expected), ussd
    assert total_line(sms) == total_line(ussd), sms
    assert total_line(whatsapp) == total_line(ussd), whatsapp
    # VAT too (the 160-character SMS may fold the subtotal and discount lines; never these).
    assert vat_line(sms) == vat_line(whatsapp) == vat_line(ussd)
    assert vat_line(ussd).endswith(engine.tax.format())

    # and the app's GraphQL quote, for the same customer and code,
    # signed in as her: her own prices are hers to see (anyone else gets the public list)
    headers = bearer(services.settings, number, "customer")
    async with gql_session(twilio.client, headers) as session:
        result = await run(
            session,
            QUOTE,
            {
                "input": {
                    "customer": number,
                    "lines": [{"sku": sku, "quantity": q} for sku, q in lines.items()],
                    "promoCode": code,
                }
            },
        )
    assert result["quote"]["errors"] == []
    assert result["quote"]["total"]["amount"] == str(engine.total.amount)
    assert result["quote"]["tax"]["amount"] == str(engine.tax.amount)


QUOTE = """
    query Quote($input: QuoteInput!) {
      quote(input: $input) {
        total { amount currency } tax { amount currency }
        errors { __typename ... on UserError { message } }
      }
    }
    """


def test_the_property_covers_every_region() -> None:
    assert {region_for_phone(Phone(p)).code for p in PHONES} == set(RegionCode)
