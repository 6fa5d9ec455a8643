"""SMS keywords (ORDER, STATUS, BAL, HELP, STOP, START) in each language, end to end: a text to
the shortcode in, the answer out through Africa's Talking's messaging API."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, update

from core.app.bootstrap import Services
from core.config import Settings
from core.gsm7 import gsm7_length
from core.i18n import Translator
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.tables import stock_levels
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.pricing.tables import prices, promotions
from tests.support.phone import UssdPhone
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone

NGOZI = "+2348030000001"
JUMA = "+254711000001"

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def gateway(client: Client, services: Services) -> Client:
    """Deliveries are flushed by the test, not by the background worker."""
    await services.delivery.stop()
    return client


@pytest.fixture
def ngozi(gateway: Client, services: Services, fake_at: FakeAfricasTalking) -> SmsPhone:
    return SmsPhone(gateway, services, fake_at, NGOZI)


@pytest.fixture
def juma(gateway: Client, services: Services, fake_at: FakeAfricasTalking) -> SmsPhone:
    return SmsPhone(gateway, services, fake_at, JUMA, network_code="63902")


@pytest.mark.parametrize(
    ("keyword", "answer"),
    [
        ("STATUS", "You have no orders yet.\n0. Back"),
        ("status", "You have no orders yet.\n0. Back"),
        ("BAL", "You owe nothing. Thank you!\n0. Back"),
        (
            "HELP",
            "Order stock and pay on delivery. 0 goes back, 00 to the main menu; where you type a "
            "number or code, 00 goes back. Help line: 0800 123 456.\n0. Back",
        ),
        ("ORDER", "Choose a category:\n1. Noodles & Pasta"),
        ("STOP", "You will get no more messages from OmniRoute. Send START to get them again."),
    ],
)
async def test_english_keyword_as_the_first_text_is_answered_by_sms(
    ngozi: SmsPhone, keyword: str, answer: str
) -> None:
    reply = await ngozi.text(keyword)

    assert reply.startswith(answer), reply


@pytest.mark.parametrize(
    ("keyword", "answer"),
    [
        ("HALI", "Bado huna oda.\n0. Rudi"),
        ("SALIO", "Huna deni. Asante!\n0. Rudi"),
        ("MSAADA", "Agiza bidhaa kwa simu yako na ulipe ukipokea."),
        ("AGIZA", "Chagua aina:\n1. Tambi na Pasta"),
        ("ACHA", "Hutapokea ujumbe zaidi kutoka OmniRoute. Tuma ANZA kupokea tena."),
        # English keywords work in every language; the answer is in the customer's.
        ("STOP", "Hutapokea ujumbe zaidi kutoka OmniRoute."),
    ],
)
async def test_swahili_keyword_from_a_kenyan_phone_is_answered_in_swahili(
    juma: SmsPhone, keyword: str, answer: str
) -> None:
    reply = await juma.text(keyword)

    assert reply.startswith(answer), reply


async def test_status_lists_the_order_placed_over_ussd(ngozi: SmsPhone, gateway: Client) -> None:
    ussd = UssdPhone(gateway, NGOZI)
    await ussd.dial()
    for label in ("Shop", "Noodles", "Indomie Chicken"):
        await ussd.choose(label)
    await ussd.press("3")
    for label in ("Checkout", "Choose payment", "Pay on delivery"):
        await ussd.choose(label)
    reference = (await ussd.choose("Confirm")).body.split()[1]
    await ngozi.receive()  # the order confirmation

    status = await ngozi.text("STATUS")
    balance = await ngozi.text("BAL")

    assert status == f"Your last orders (NGN):\n{reference} Placed 26,993.25\n0. Back"
    assert balance == "You owe NGN 26,993.00 for 1 order to pay on delivery.\n0. Back"


async def test_a_reference_typed_at_my_orders_opens_that_order(
    ngozi: SmsPhone, services: Services
) -> None:
    """Ngozi texted STATUS, then the reference of the order she meant, as printed: all digits
    ("222227", as some references are). She was told to choose a number; it is her order."""
    order = await services.orders.place(
        PlaceOrder(
            Phone(NGOZI),
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 3),),
            PaymentMethod.ON_DELIVERY,
            "ngozi-1",
        )
    )
    assert order.reference.isdigit(), order.reference  # the test ids' first reference
    await ngozi.receive()  # the order confirmation
    await ngozi.text("STATUS")

    shown = await ngozi.text(order.reference)
    other = await ngozi.text("234679")

    assert shown.startswith(f"Order {order.reference}: Placed\n"), shown
    assert other.startswith("No order 234679 found.\n"), other


async def test_keyword_in_the_middle_of_a_conversation_jumps_to_its_screen(
    ngozi: SmsPhone,
) -> None:
    await ngozi.text("Hi")
    await ngozi.text("1")

    assert (await ngozi.text("HELP")).startswith("Order stock and pay on delivery.")
    assert (await ngozi.text("0")).startswith("Choose a category:")  # where she asked from


async def test_stop_then_start_in_swahili_opts_out_and_back_in(
    juma: SmsPhone, services: Services
) -> None:
    await juma.text("acha")
    customer = await services.customers.get(Phone(JUMA))
    assert customer is not None
    assert customer.opted_out

    back = await juma.text("anza")

    assert back.startswith("Karibu tena: utapokea taarifa za oda tena.\nKaribu OmniRoute")
    customer = await services.customers.get(Phone(JUMA))
    assert customer is not None
    assert not customer.opted_out


async def test_keyword_in_the_language_a_nigerian_retailer_chose_is_understood_first(
    ngozi: SmsPhone, services: Services
) -> None:
    """Ngozi chose Swahili: her first text SALIO is her balance in Swahili, not the menu."""
    await services.customers.set_locale(Phone(NGOZI), "sw")

    assert await ngozi.text("SALIO") == "Huna deni. Asante!\n0. Rudi"
    # Her market's language (English here) is still understood, and answered in hers.
    assert (await ngozi.text("STATUS")).startswith("Bado huna oda.\n0. Rudi")


async def test_market_keyword_from_a_kenyan_retailer_who_chose_english_is_understood(
    juma: SmsPhone, services: Services
) -> None:
    await services.customers.set_locale(Phone(JUMA), "en")

    assert await juma.text("SALIO") == "You owe nothing. Thank you!\n0. Back"
    # In the middle of the conversation too.
    assert (await juma.text("HALI")).startswith("You have no orders yet.\n0. Back")


async def to_promo_prompt(phone: SmsPhone) -> str:
    """Three cartons of Indomie, Checkout, Promo code: the prompt for the code."""
    await phone.text("Hi")
    for key in ("1", "1", "1", "3", "3"):
        await phone.text(key)
    return await phone.text("2")


async def test_a_promo_code_spelled_like_a_keyword_is_taken_as_the_code(
    juma: SmsPhone, services: Services
) -> None:
    """A shop's code ANZA (Swahili START) typed at the promo prompt is the code, not START."""
    async with services.db.transaction() as session:
        await session.execute(
            update(promotions).where(promotions.c.id == "WELCOME-NAIROBI").values(code="ANZA")
        )
    services.pricing.forget()
    prompt = await to_promo_prompt(juma)
    assert prompt.startswith("Weka msimbo wa punguzo"), prompt

    quote = await juma.text("anza")

    assert "Msimbo ANZA" in quote, quote
    [cart_code] = [(await services.orders.cart(Phone(JUMA), RegionCode.NAIROBI)).voucher]
    assert cart_code == "ANZA"


@pytest.mark.parametrize("word", ["HELP", "MENU", "back", "SALIO"])
async def test_other_words_at_the_promo_prompt_are_codes_too(ngozi: SmsPhone, word: str) -> None:
    await to_promo_prompt(ngozi)

    refused = await ngozi.text(word)

    assert refused.startswith(f"Code {word.upper()} is not valid."), refused
    assert refused.endswith("Enter your promo code, or 0 to go without one:\n00. Back")


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe"])
async def test_stop_at_the_promo_prompt_still_opts_out(
    ngozi: SmsPhone, services: Services, word: str
) -> None:
    await to_promo_prompt(ngozi)

    reply = await ngozi.text(word)

    assert reply.startswith("You will get no more messages from OmniRoute."), reply
    customer = await services.customers.get(Phone(NGOZI))
    assert customer is not None
    assert customer.opted_out


async def test_acha_at_the_promo_prompt_still_opts_out(juma: SmsPhone, services: Services) -> None:
    await to_promo_prompt(juma)

    reply = await juma.text("ACHA")

    assert reply.startswith("Hutapokea ujumbe zaidi kutoka OmniRoute."), reply
    customer = await services.customers.get(Phone(JUMA))
    assert customer is not None
    assert customer.opted_out


async def test_a_cart_resumed_by_sms_says_in_one_line_what_changed_and_fits_one_sms(
    ngozi: SmsPhone, services: Services
) -> None:
    """Indomie and Spaghetti in the cart; Indomie is withdrawn and Spaghetti runs low."""
    await ngozi.text("Hi")
    for key in ("1", "1", "1", "3"):
        await ngozi.text(key)
    cart = await services.orders.cart(Phone(NGOZI), RegionCode.LAGOS)
    await services.orders.save_cart(cart.with_quantity("NDL-SPAG-500", 5))
    await services.store.delete(f"sms:{NGOZI}")  # the conversation expired
    async with services.db.transaction() as session:
        await session.execute(
            delete(prices).where(prices.c.region == "lagos", prices.c.sku == "NDL-INDO-CHK")
        )
        await session.execute(
            update(stock_levels)
            .where(stock_levels.c.sku == "NDL-SPAG-500", stock_levels.c.warehouse_id == "WH-LAGOS")
            .values(on_hand=2, reserved=0)
        )
    services.pricing.forget()

    offer = await ngozi.text("Hi")

    assert offer.startswith(
        "Cart updated: 1 removed (unavailable), 1 cut to stock.\n"
        "Welcome back! Your cart has 2 items, NGN "
    ), offer
    assert offer.endswith("1. Continue with cart\n2. Start a new cart")
    assert len(offer) <= 160


@pytest.mark.parametrize(
    ("keyword", "answer"),
    [
        ("SUIVI", "Vous n'avez pas encore de commande.\n0. Retour"),
        ("solde", "Vous ne devez rien. Merci!\n0. Retour"),
        ("Aide", "Commandez et payez à la livraison. 0 pour revenir"),
        ("COMMANDE", "Choisissez une catégorie:\n1. Nouilles et pates\n2. Riz et céréales"),
        ("arret", "Vous ne recevrez plus de messages d'OmniRoute. Envoyez START"),
        # English keywords work in every language; the answer is in hers.
        ("STATUS", "Vous n'avez pas encore de commande.\n0. Retour"),
    ],
)
async def test_french_keyword_from_a_retailer_who_chose_french_is_answered_in_french(
    ngozi: SmsPhone, services: Services, keyword: str, answer: str
) -> None:
    await services.customers.set_locale(Phone(NGOZI), "fr")

    reply = await ngozi.text(keyword)

    assert reply.startswith(answer), reply


async def test_a_pidgin_speaker_is_answered_in_pidgin_and_her_english_keywords_work(
    ngozi: SmsPhone, services: Services
) -> None:
    await services.customers.set_locale(Phone(NGOZI), "pcm")

    assert await ngozi.text("BAL") == "You no owe anything. Thank you!\n0. Go back"
    assert (await ngozi.text("status")).startswith("You never order anything yet.\n0. Go back")


@pytest.mark.parametrize("locale", Translator.load().locales)
async def test_a_whole_order_by_sms_fits_one_sms_a_reply_in_every_language(
    ngozi: SmsPhone, services: Services, locale: str
) -> None:
    """Each reply is one SMS: a screen over 160 GSM-7 characters is refused by the renderer,
    and she would read "Sorry, the service is not available" instead."""
    await services.customers.set_locale(Phone(NGOZI), locale)
    t = services.translate
    sent = ["Hi", "1", "1", "1", "abc", "0", "3", "2", "1", "3", "3", "2", "nope", "0"]
    sent += [
        "1",
        "1",
        "2",
        "00",
        "3",
        t(locale, "keyword.help").split(",")[0],
        "00",
        "BAL",
        "00",
        "STATUS",
    ]

    replies = [await ngozi.text(text) for text in sent]

    unavailable = t(locale, "error.unavailable")
    assert [r for r in replies if unavailable in r or gsm7_length(r) > 160] == []
    assert any(t(locale, "confirm.cancelled") in r for r in replies), replies
