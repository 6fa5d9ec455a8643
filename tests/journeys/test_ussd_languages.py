"""Languages and markets: the phone's country picks them; Language changes it for good."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.money import Money
from core.phone import Phone
from tests.support.phone import UssdPhone, database_rows

JUMA = Phone("+254711000001")
NGOZI = Phone("+2348030000001")


async def test_juma_in_nairobi_is_greeted_in_swahili(juma: UssdPhone) -> None:
    screen = await juma.dial()

    assert screen.kind == "CON"
    assert screen.text == "Karibu OmniRoute"
    assert screen.labels == ["Nunua", "Kikapu (0)", "Oda zangu", "Lugha", "Msaada"]


async def test_juma_orders_end_to_end_in_kes_with_16_percent_vat(
    juma: UssdPhone, services: Services
) -> None:
    await juma.dial()
    assert (await juma.choose("Nunua")).text == "Chagua aina:"
    assert (await juma.choose("Tambi na Pasta")).text == "Tambi na Pasta:"
    prompt = await juma.choose("Indomie Chicken")
    assert prompt.lines[1:] == ["KES 805 kwa katoni, zipo 200.", "Weka idadi:", "00. Rudi"]
    added = await juma.press("3")
    assert added.lines[:2] == ["Umeongeza 3 x Indomie Chicken 40x70g.", "Kikapu: bidhaa 3."]

    quote = await juma.choose("Lipia")
    assert quote.text.splitlines() == [
        "Jumla ndogo KES 2,415.00",
        "Punguzo -KES 241.50",
        "VAT 16% KES 347.76",
        "Jumla KES 2,521.26",
    ]
    assert (await juma.choose("Chagua malipo")).text == "Utalipaje?"
    confirm = await juma.choose("Lipa ukipokea")
    assert confirm.text == "Weka oda ya KES 2,521.26, lipa KES 2,521.00 taslimu ukipokea?"
    done = await juma.choose("Thibitisha")

    [order] = await services.orders.recent(JUMA)
    assert done.kind == "END"
    assert done.body == (
        f"Oda {order.reference} imewekwa. Jumla KES 2,521.26. Lipa KES 2,521.00 taslimu mlangoni."
        " Asante!"
    )
    assert order.total == Money(Decimal("2521.26"), "KES")
    taxable = order.subtotal.amount - order.discount.amount
    vat = (taxable * Decimal("0.16")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert order.tax == Money(vat, "KES")

    await juma.dial()
    orders = await juma.choose("Oda zangu")
    assert orders.lines[:2] == ["Oda zako za mwisho (KES):", f"{order.reference} Imewekwa 2,521.26"]


async def test_switching_to_english_persists_to_the_next_session(
    juma: UssdPhone, services: Services
) -> None:
    await juma.dial()
    languages = (await juma.choose("Lugha")).labels
    # each in its own name, English first; Hausa, Yoruba and Igbo come before Pidgin
    assert languages[:3] == ["English", "Francais", "Kiswahili"]
    assert languages[-2:] == ["Pidgin", "Rudi"]

    screen = await juma.choose("English")

    assert screen.lines[:2] == ["Language changed.", "Welcome to OmniRoute"]
    assert screen.labels == ["Shop", "Cart (0)", "My orders", "Language", "Help"]
    customer = await services.customers.get(JUMA)
    assert customer is not None
    assert customer.locale == "en"

    again = await juma.dial()
    assert again.text == "Welcome to OmniRoute"
    # Still a Nairobi shop: English words, Kenyan shillings.
    await juma.choose("Shop")
    await juma.choose("Noodles")
    assert "KES 805 per carton" in await juma.choose("Indomie Chicken")


async def test_switching_back_to_swahili_persists_too(juma: UssdPhone) -> None:
    await juma.dial()
    await juma.choose("Lugha")
    await juma.choose("English")
    await juma.dial()
    await juma.choose("Language")

    screen = await juma.choose("Kiswahili")

    assert screen.lines[:2] == ["Lugha imebadilishwa.", "Karibu OmniRoute"]
    assert (await juma.dial()).text == "Karibu OmniRoute"


async def test_ngozi_in_lagos_can_choose_swahili(ngozi: UssdPhone) -> None:
    assert (await ngozi.dial()).text == "Welcome to OmniRoute"
    await ngozi.choose("Language")
    await ngozi.choose("Kiswahili")

    screen = await ngozi.dial()

    assert screen.text == "Karibu OmniRoute"
    await ngozi.choose("Nunua")
    await ngozi.choose("Tambi")
    assert "NGN 9,300 kwa katoni" in await ngozi.choose("Indomie Chicken")


@pytest.mark.parametrize("number", ["+12025550123", "+33612345678"], ids=["US", "FR"])
async def test_unsupported_country_gets_a_polite_end_and_changes_nothing(
    client: TestClient[object, object], services: Services, number: str
) -> None:
    rows_before = await database_rows(services.db)
    phone = UssdPhone(client, number)

    screen = await phone.dial()

    assert screen.kind == "END"
    assert screen.body == "Sorry, OmniRoute is not available in your country yet."
    assert await database_rows(services.db) == rows_before
    assert await services.store.load(phone.session_key) is None
