"""Retailers type their order in a text instead of walking the menu: "nataka katoni 5 za
Indomie", "5 cartons indomie", "indomie 5". Each message goes in as the provider's own webhook
(Africa's Talking and Twilio SMS, Twilio and Meta WhatsApp); the cart changes only on Yes, through
the same stock and quantity checks as the menu journey."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.config import Settings
from core.gsm7 import gsm7_length
from core.phone import Phone
from core.region import RegionCode
from engines.catalogue.tables import stock_levels
from tests.support.ports import free_port
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone
from tests.support.providers.meta import FakeGraphApi, WhatsAppUser
from tests.support.providers.twilio import (
    TwilioChat,
    TwilioWebhooks,
    twilio_gateway,
    twilio_settings,
)

NGOZI = Phone("+2348030000001")
JUMA = Phone("+254711000001")
INDOMIE = "NDL-INDO-CHK"
MAIN_MENU = "Welcome to OmniRoute\n1. Shop\n2. Cart (0)\n3. My orders\n4. Language\n5. Help"

Client = TestClient[web.Request, web.Application]


async def cart_of(services: Services, phone: Phone = NGOZI) -> dict[str, int]:
    region = RegionCode.LAGOS if phone == NGOZI else RegionCode.NAIROBI
    cart = await services.orders.cart(phone, region)
    return {line.sku: line.quantity for line in cart.lines}


async def set_stock(services: Services, sku: str, available: int) -> None:
    async with services.db.transaction() as s:
        await s.execute(
            update(stock_levels)
            .where(stock_levels.c.sku == sku)
            .values(on_hand=stock_levels.c.reserved + available)
        )


def fits_one_sms(*texts: str) -> None:
    for sms in texts:
        assert gsm7_length(sms) <= 160, sms


# --- Africa's Talking SMS --------------------------------------------------------------------


class TestAfricasTalkingSms:
    @pytest.fixture
    def settings(self, database_url: str, fake_at: FakeAfricasTalking) -> Settings:
        return fake_at.settings(database_url)

    @pytest.fixture
    async def ngozi(
        self, client: Client, services: Services, fake_at: FakeAfricasTalking
    ) -> SmsPhone:
        await services.delivery.stop()
        return SmsPhone(client, services, fake_at, NGOZI.e164)

    @pytest.fixture
    async def juma(
        self, client: Client, services: Services, fake_at: FakeAfricasTalking
    ) -> SmsPhone:
        await services.delivery.stop()
        return SmsPhone(client, services, fake_at, JUMA.e164, network_code="63902")

    async def test_first_text_5_cartons_indomie_chicken_asks_to_add_and_yes_adds_five(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        confirm = await ngozi.text("5 cartons indomie chicken")
        assert confirm == ("Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?\n1. Yes\n2. No")
        assert await cart_of(services) == {}  # nothing changes until Yes

        added = await ngozi.text("1")

        assert added.startswith("Added 5 x Indomie Chicken 40x70g.\nCart: 5 items.")
        assert await cart_of(services) == {INDOMIE: 5}
        fits_one_sms(*ngozi.inbox)

    async def test_order_typed_at_the_main_menu_in_swahili_word_order(
        self, juma: SmsPhone, services: Services
    ) -> None:
        menu = await juma.text("Habari")
        assert menu.startswith("Karibu")

        pick = await juma.text("nataka katoni tano za Indomie")
        assert pick.startswith('Ipi kwa 5 x "indomie"?\n1. Indomie Chicken 40x70g KES ')
        assert pick.endswith("\n0. Rudi")
        confirm = await juma.text("1")

        assert confirm.startswith("Ongeza 5 x Indomie Chicken 40x70g (KES ")
        assert confirm.endswith("?\n1. Ndiyo\n2. Hapana")
        await juma.text("1")
        assert await cart_of(services, JUMA) == {INDOMIE: 5}
        fits_one_sms(*juma.inbox)

    async def test_no_returns_to_the_menu_and_changes_nothing(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Hi")
        await ngozi.text("indomie chicken 3")

        back = await ngozi.text("2")

        assert back == MAIN_MENU
        assert await cart_of(services) == {}

    async def test_a_name_several_products_share_gets_a_numbered_choice(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Hi")
        pick = await ngozi.text("I want 2 bags of rice")
        assert pick.startswith('Which one for 2 x "rice"?\n1. Basmati Rice 10kg NGN ')
        assert "2. Long Grain Rice 25kg NGN " in pick

        confirm = await ngozi.text("2")
        assert confirm.startswith("Add 2 x Long Grain Rice 25kg (NGN ")
        await ngozi.text("1")

        assert await cart_of(services) == {"RCE-LONG-25K": 2}
        fits_one_sms(*ngozi.inbox)

    async def test_words_naming_nothing_get_the_menu_again_with_what_to_type(
        self, ngozi: SmsPhone, juma: SmsPhone
    ) -> None:
        await ngozi.text("Hi")
        assert await ngozi.text("5 cartons of caviar") == (
            'No product called "caviar". Type e.g. 5 cartons Indomie.\n' + MAIN_MENU
        )
        assert await ngozi.text("tomorrow maybe") == (  # "hello there" is a greeting: the menu
            "Choose a number, or type an order, e.g. 5 cartons Indomie.\n" + MAIN_MENU
        )
        await juma.text("Habari")
        assert (await juma.text("kesho labda")).startswith(
            "Chagua namba, au andika agizo, mf. katoni 5 za Indomie.\nKaribu"
        )
        fits_one_sms(*ngozi.inbox, *juma.inbox)

    async def test_the_typing_hint_on_a_product_list_and_in_swahili_fits_one_sms(
        self, ngozi: SmsPhone, juma: SmsPhone
    ) -> None:
        await ngozi.text("Hi")
        await ngozi.text("1")
        await ngozi.text("1")
        hint = await ngozi.text("what do you have")
        assert hint.startswith("Choose a number, or type an order, e.g. 5 cartons Indomie.\n")
        assert "1. Indomie Chicken 40x70g NGN 9,300" in hint
        await juma.text("Habari")
        unknown = await juma.text("nataka katoni 5 za mchelewapishiwakubwa sana")
        assert unknown.startswith('Hakuna bidhaa "mchelewapishiwakubwa". Andika mf. katoni 5 za')
        fits_one_sms(*ngozi.inbox, *juma.inbox)

    async def test_stock_sold_before_yes_is_refused_as_on_the_menu_and_the_cart_is_untouched(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        assert (await ngozi.text("5 indomie chicken")).startswith("Add 5 x Indomie Chicken")
        await set_stock(services, INDOMIE, 4)

        refused = await ngozi.text("1")

        assert refused.startswith("Only 4 left in stock.\nIndomie Chicken 40x70g")
        assert await cart_of(services) == {}
        assert (await ngozi.text("4")).startswith("Added 4 x Indomie Chicken 40x70g.")
        assert await cart_of(services) == {INDOMIE: 4}

    async def test_more_than_the_stock_typed_is_refused_at_once_and_nothing_is_asked(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await set_stock(services, INDOMIE, 40)
        await ngozi.text("Hi")

        refused = await ngozi.text("999999 indomie chicken")

        assert refused.startswith("Only 40 left in stock.\nIndomie Chicken 40x70g\nNGN ")
        assert refused.endswith("Enter quantity:\n00. Back")
        assert "Add" not in refused
        assert "8,749,991,250" not in refused
        assert await cart_of(services) == {}
        assert await ngozi.text("00") == MAIN_MENU  # Back: the screen she typed on
        assert (await ngozi.text("41 indomie chicken")).startswith("Only 40 left in stock.")
        assert (await ngozi.text("40")).startswith("Added 40 x Indomie Chicken 40x70g.")
        assert await cart_of(services) == {INDOMIE: 40}
        fits_one_sms(*ngozi.inbox)

    async def test_more_than_a_line_holds_is_refused_at_once_after_the_choice_too(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await set_stock(services, "RCE-LONG-25K", 50_000)
        await ngozi.text("Hi")
        await ngozi.text("10000 bags of rice")

        refused = await ngozi.text("2")  # Long Grain Rice, from "Which one for 10000 x rice?"

        assert refused.startswith("Enter at most 9999.\nLong Grain Rice 25kg\nNGN ")
        assert "Add" not in refused
        assert await cart_of(services) == {}
        fits_one_sms(*ngozi.inbox)

    async def test_a_quantity_of_seven_digits_is_refused_as_more_than_a_line_holds(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        """'1000000 indomie' got only the typing hint, as if no number had been typed."""
        await set_stock(services, INDOMIE, 100_000_000)
        await ngozi.text("Hi")

        refused = await ngozi.text("1000000 indomie chicken")

        assert refused.startswith("Enter at most 9999.\nIndomie Chicken 40x70g\nNGN "), refused
        assert refused.endswith("Enter quantity:\n00. Back")
        assert (await ngozi.text("1000000 cartons")).startswith("Enter at most 9999.\nIndomie")
        await ngozi.text("00")
        again = await ngozi.text("nataka katoni 12345678 za indomie chicken")
        assert again.startswith("Enter at most 9999.\nIndomie Chicken 40x70g\n"), again
        assert await cart_of(services) == {}
        fits_one_sms(*ngozi.inbox)

    async def test_another_order_typed_at_which_one_is_read_in_its_place(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Hi")
        pick = await ngozi.text("2 bags of rice")
        assert pick.startswith('Which one for 2 x "rice"?')
        assert await ngozi.text("tomorrow maybe") == (
            "Choose a number, or type an order, e.g. 5 cartons Indomie.\n" + pick
        )

        confirm = await ngozi.text("3 spaghetti")

        assert confirm.startswith("Add 3 x Spaghetti 20x500g (NGN ")
        assert await ngozi.text("2") == MAIN_MENU  # No: the screen the first was typed on
        await ngozi.text("2 bags of rice")
        assert (await ngozi.text("macaroni")).startswith("Macaroni 20x500g\nNGN ")
        assert (await ngozi.text("4")).startswith("Added 4 x Macaroni 20x500g.")
        assert await cart_of(services) == {"NDL-MACA-500": 4}
        fits_one_sms(*ngozi.inbox)

    async def test_yes_and_no_may_be_typed_as_words(
        self, ngozi: SmsPhone, juma: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("2 cola")
        assert (await ngozi.text("No")) == MAIN_MENU
        await ngozi.text("2 cola")
        assert (await ngozi.text("yes")).startswith("Added 2 x Cola 24x35cl.")
        await juma.text("katoni 3 za cola")
        assert (await juma.text("Ndio")).startswith("Umeongeza 3 x Cola 24x35cl.")
        assert await cart_of(services) == {"DRK-COLA-35": 2}
        assert await cart_of(services, JUMA) == {"DRK-COLA-35": 3}

    async def test_a_french_speaker_orders_in_french_words_and_says_oui(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await services.customers.set_locale(NGOZI, "fr")

        confirm = await ngozi.text("Bonjour, je veux cinq cartons de indomie chicken svp")
        assert confirm == ("Ajouter 5 x Indomie Chicken 40x70g (NGN 46,500.00)?\n1. Oui\n2. Non")
        added = await ngozi.text("Oui merci")

        assert added.startswith("5 x Indomie Chicken 40x70g ajouté.\nPanier: 5 articles.")
        assert await cart_of(services) == {INDOMIE: 5}
        assert (await ngozi.text("2 casiers cola")).startswith("Ajouter 2 x Cola 24x35cl")
        assert (await ngozi.text("non")).startswith("5 x Indomie Chicken 40x70g ajouté.")
        fits_one_sms(*ngozi.inbox)

    async def test_a_french_speaker_names_products_in_french(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await services.customers.set_locale(NGOZI, "fr")

        rice = await ngozi.text("Bonjour, 2 sacs de riz svp")  # "riz": both rices
        assert rice.startswith('Lequel pour 2 x "riz"?\n1. Basmati Rice 10kg'), rice
        assert (await ngozi.text("2")).startswith("Ajouter 2 x Long Grain Rice 25kg (NGN ")
        await ngozi.text("oui")
        soap = await ngozi.text("3 cartons de savon")
        assert soap.startswith("Ajouter 3 x Bath Soap 72x150g (NGN "), soap
        await ngozi.text("oui")

        assert await cart_of(services) == {"RCE-LONG-25K": 2, "CAR-SOAP-150": 3}
        fits_one_sms(*ngozi.inbox)

    async def test_a_pidgin_speaker_says_abeg_and_oya(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await services.customers.set_locale(NGOZI, "pcm")

        confirm = await ngozi.text("Abeg I wan buy 5 carton indomie chicken")
        assert confirm == ("Make I add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?\n1. Yes\n2. No")
        added = await ngozi.text("Oya")

        assert added.startswith("5 x Indomie Chicken 40x70g don enter.\nCart: 5 item.")
        await ngozi.text("2 cola")
        assert (await ngozi.text("no o")).startswith("5 x Indomie Chicken 40x70g don enter.")
        assert await cart_of(services) == {INDOMIE: 5}
        fits_one_sms(*ngozi.inbox)

    async def test_two_items_in_one_text_are_confirmed_one_after_the_other(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        first = await ngozi.text("5 indomie chicken and 2 spaghetti")
        assert first.startswith("Add 5 x Indomie Chicken 40x70g (NGN ")

        second = await ngozi.text("1")
        assert second.startswith(
            "Added 5 x Indomie Chicken 40x70g.\nAdd 2 x Spaghetti 20x500g (NGN "
        )
        added = await ngozi.text("1")

        assert added.startswith("Added 2 x Spaghetti 20x500g.\nCart: 7 items.")
        assert await cart_of(services) == {INDOMIE: 5, "NDL-SPAG-500": 2}
        fits_one_sms(*ngozi.inbox)

    async def test_an_item_naming_no_product_is_skipped_with_a_line_saying_so(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        confirm = await ngozi.text("2 caviar, 3 cola")
        assert confirm.startswith('No product called "caviar".\nAdd 3 x Cola 24x35cl (NGN ')

        assert (await ngozi.text("1")).startswith("Added 3 x Cola 24x35cl.\nCart: 3 items.")
        assert await ngozi.text("00") == MAIN_MENU.replace("Cart (0)", "Cart (3)")
        assert (await ngozi.text("1 cola and 2 truffles")).startswith("Add 1 x Cola")
        back = await ngozi.text("1")

        assert back == (
            'Added 1 x Cola 24x35cl.\nNo product called "truffles".\n'
            + MAIN_MENU.replace("Cart (0)", "Cart (4)")
        )
        assert await cart_of(services) == {"DRK-COLA-35": 4}
        fits_one_sms(*ngozi.inbox)

    async def test_an_order_typed_on_a_product_list_is_read_there(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Hi")
        await ngozi.text("1")
        noodles = await ngozi.text("1")
        assert noodles.startswith("Noodles & Pasta:\n1. Indomie Chicken")

        confirm = await ngozi.text("macaroni 3")
        assert confirm.startswith("Add 3 x Macaroni 20x500g (NGN ")
        assert await ngozi.text("2") == noodles  # No: the list she typed it on
        assert await cart_of(services) == {}

    async def test_a_product_named_without_a_quantity_asks_how_many(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        how_many = await ngozi.text("Indomie Chicken please")
        assert how_many.startswith("Indomie Chicken 40x70g\nNGN 9,300 per carton, ")
        assert how_many.endswith(" in stock.\nEnter quantity:\n00. Back")
        assert await cart_of(services) == {}

        added = await ngozi.text("3")

        assert added.startswith("Added 3 x Indomie Chicken 40x70g.\nCart: 3 items.")
        assert await cart_of(services) == {INDOMIE: 3}
        fits_one_sms(*ngozi.inbox)

    async def test_a_name_several_products_share_asks_which_then_how_many(
        self, ngozi: SmsPhone, juma: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Hi")
        pick = await ngozi.text("indomie")
        assert pick.startswith('Which one for "indomie"?\n1. Indomie Chicken 40x70g NGN ')
        how_many = await ngozi.text("2")
        assert how_many.startswith("Indomie Onion 40x70g\nNGN ")
        await ngozi.text("4")
        assert await cart_of(services) == {"NDL-INDO-ONP": 4}

        await juma.text("Habari")
        pick = await juma.text("nataka indomie")
        assert pick.startswith('Ipi kwa "indomie"?\n1. Indomie Chicken 40x70g KES ')
        how_many = await juma.text("1")
        assert how_many.startswith("Indomie Chicken 40x70g\nKES ")
        assert "\nWeka idadi:" in how_many
        fits_one_sms(*ngozi.inbox, *juma.inbox)

    async def test_a_carton_of_indomie_is_one_carton(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Hi")
        confirm = await ngozi.text("a carton of indomie chicken")
        assert confirm == "Add 1 x Indomie Chicken 40x70g (NGN 9,300.00)?\n1. Yes\n2. No"
        await ngozi.text("1")
        assert await cart_of(services) == {INDOMIE: 1}

    async def test_how_many_may_be_answered_in_words(
        self, ngozi: SmsPhone, juma: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Cola")
        assert (await ngozi.text("5 crates")).startswith("Added 5 x Cola 24x35cl.")
        await juma.text("Cola")
        assert (await juma.text("tano")).startswith("Umeongeza 5 x Cola 24x35cl.")
        await juma.text("1")  # Add more products: the drinks
        await juma.text("1")  # Cola
        assert (await juma.text("katoni kumi na mbili")).startswith("Umeongeza 12 x Cola")

        assert await cart_of(services) == {"DRK-COLA-35": 5}
        assert await cart_of(services, JUMA) == {"DRK-COLA-35": 17}
        fits_one_sms(*ngozi.inbox, *juma.inbox)

    async def test_kilos_of_rice_are_not_offered_as_bags(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("Hi")
        assert await ngozi.text("5 kg rice") == (
            "Choose a number, or type an order, e.g. 5 cartons Indomie.\n" + MAIN_MENU
        )
        assert await cart_of(services) == {}

    async def test_pieces_of_a_product_sold_by_the_carton_are_asked_again_in_cartons(
        self, ngozi: SmsPhone, juma: SmsPhone, services: Services
    ) -> None:
        """'5 pieces indomie' is five packets, not five cartons of 40: nothing is offered,
        she is told it is sold by the carton, on its quantity screen."""
        await ngozi.text("Hi")
        asked = await ngozi.text("5 pieces indomie chicken")
        assert asked.startswith(
            "Sold by the carton: enter how many cartons.\nIndomie Chicken 40x70g\n"
            "NGN 9,300 per carton, "
        ), asked
        assert asked.endswith("\nEnter quantity:\n00. Back")
        assert await cart_of(services) == {}
        # Answered in pieces again, the same; in cartons (or no unit), added.
        assert (await ngozi.text("5 pcs")).startswith("Sold by the carton: enter how many cartons.")
        assert (await ngozi.text("2 cartons")).startswith("Added 2 x Indomie Chicken 40x70g.")

        await juma.text("Habari")
        pick = await juma.text("nipe vipande 5 vya indomie")
        assert pick.startswith('Ipi kwa 5 x "indomie"?\n1. Indomie Chicken 40x70g KES ')
        asked = await juma.text("1")
        assert asked.startswith(
            "Huuzwa kwa katoni: weka idadi ya katoni.\nIndomie Chicken 40x70g\nKES "
        ), asked
        await juma.text("00")
        bottles = await juma.text("chupa 6 za soda ya kola")
        assert bottles.startswith("Huuzwa kwa kreti: weka idadi ya kreti.\nCola 24x35cl\n"), bottles

        assert await cart_of(services) == {INDOMIE: 2}
        assert await cart_of(services, JUMA) == {}
        fits_one_sms(*ngozi.inbox, *juma.inbox)

    async def test_a_greeting_is_still_no_product(self, ngozi: SmsPhone) -> None:
        assert await ngozi.text("Hello") == MAIN_MENU

    async def test_swahili_product_words_find_the_products_they_name(
        self, juma: SmsPhone, services: Services
    ) -> None:
        await juma.text("Habari")
        pick = await juma.text("nataka mifuko 2 ya mchele")
        assert pick.startswith('Ipi kwa 2 x "mchele"?\n1. Basmati Rice 10kg KES ')
        assert "\n2. Long Grain Rice 25kg KES " in pick
        await juma.text("2")
        assert (await juma.text("1")).startswith("Umeongeza 2 x Long Grain Rice 25kg.")

        await juma.text("00")
        confirm = await juma.text("unga wa mahindi 3")
        assert confirm.startswith("Ongeza 3 x Maize Flour 10kg (KES ")
        await juma.text("Ndio")
        await juma.text("00")
        confirm = await juma.text("katoni moja ya indomie ya kuku")
        assert confirm.startswith("Ongeza 1 x Indomie Chicken 40x70g (KES ")
        await juma.text("1")

        assert await cart_of(services, JUMA) == {"RCE-LONG-25K": 2, "GRN-MAIZ-10K": 3, INDOMIE: 1}
        fits_one_sms(*juma.inbox)

    async def test_sukari_and_sugar_find_the_demos_sugar(
        self, ngozi: SmsPhone, juma: SmsPhone, services: Services
    ) -> None:
        await juma.text("Habari")
        pick = await juma.text("nataka mifuko 2 ya sukari")
        assert pick.startswith('Ipi kwa 2 x "sukari"?\n1. White Sugar 24x1kg KES 3,430\n'), pick
        assert "\n2. White Sugar 50kg KES 6,240\n" in pick
        confirm = await juma.text("2")
        assert confirm.startswith("Ongeza 2 x White Sugar 50kg (KES 12,480.00)?"), confirm
        await juma.text("1")

        await ngozi.text("Hi")
        which = await ngozi.text("sugar")
        assert which.startswith('Which one for "sugar"?\n1. White Sugar 24x1kg NGN 39,600\n')
        assert (await ngozi.text("1")).startswith("White Sugar 24x1kg\nNGN 39,600 per bale, ")

        assert await cart_of(services, JUMA) == {"SUG-WHTE-50K": 2}
        fits_one_sms(*ngozi.inbox, *juma.inbox)

    async def test_asked_in_robota_she_may_answer_in_robota(
        self, juma: SmsPhone, services: Services
    ) -> None:
        await juma.text("Habari")
        assert (await juma.text("vipande 3 vya sukari")).startswith('Ipi kwa 3 x "sukari"?')
        asked = await juma.text("1")
        assert asked.startswith("Huuzwa kwa robota: weka idadi ya robota.\nWhite Sugar 24x1kg\n")

        added = await juma.text("robota 3")

        assert added.startswith("Umeongeza 3 x White Sugar 24x1kg."), added
        assert await cart_of(services, JUMA) == {"SUG-WHTE-1K": 3}
        fits_one_sms(*juma.inbox)

    async def test_mafuta_asks_which_oil_and_a_name_without_a_number_asks_how_many(
        self, juma: SmsPhone
    ) -> None:
        await juma.text("Habari")
        pick = await juma.text("mafuta")
        assert pick.startswith('Ipi kwa "mafuta"?\n1. Groundnut Oil 12x1L KES ')
        assert "\n2. Palm Oil 4x5L KES " in pick
        assert (await juma.text("2")).startswith("Palm Oil 4x5L\nKES ")
        await juma.text("00")
        await juma.text("0")
        how_many = await juma.text("naomba mafuta ya alizeti")
        assert how_many.startswith("Sunflower Oil 12x1L\nKES ")
        fits_one_sms(*juma.inbox)

    async def test_swahili_words_are_read_for_a_swahili_speaker_only(
        self, ngozi: SmsPhone, juma: SmsPhone
    ) -> None:
        await ngozi.text("Hi")
        assert (await ngozi.text("5 mchele")).startswith('No product called "mchele".')
        await juma.text("Habari")
        assert (await juma.text("2 cooking oil")).startswith("Ongeza 2 x Vegetable Oil 4x5L")

    async def test_an_order_typed_at_the_cart_is_added_from_there(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("3 cola")
        await ngozi.text("1")
        cart = await ngozi.text("2")  # View cart
        assert cart.startswith("Cart (3 items, NGN ")

        confirm = await ngozi.text("2 indomie chicken")
        assert confirm.startswith("Add 2 x Indomie Chicken 40x70g (NGN ")
        assert await ngozi.text("2") == cart  # No: the cart she typed it on
        await ngozi.text("2 indomie chicken")
        added = await ngozi.text("1")

        assert added.startswith("Added 2 x Indomie Chicken 40x70g.\nCart: 5 items.")
        assert await cart_of(services) == {"DRK-COLA-35": 3, INDOMIE: 2}
        fits_one_sms(*ngozi.inbox)

    async def test_the_next_item_may_be_typed_right_after_one_was_added(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("3 cola")
        added = await ngozi.text("1")
        assert added.startswith("Added 3 x Cola 24x35cl.\nCart: 3 items.")

        confirm = await ngozi.text("2 spaghetti")
        assert confirm.startswith("Add 2 x Spaghetti 20x500g (NGN ")
        assert await ngozi.text("2") == added  # No: the screen she typed it on
        assert (await ngozi.text("macaroni")).startswith("Macaroni 20x500g\nNGN ")
        await ngozi.text("4")

        assert await cart_of(services) == {"DRK-COLA-35": 3, "NDL-MACA-500": 4}
        fits_one_sms(*ngozi.inbox)

    async def test_an_order_typed_at_checkout_is_not_read(
        self, ngozi: SmsPhone, services: Services
    ) -> None:
        await ngozi.text("3 cola")
        await ngozi.text("1")
        quote = await ngozi.text("3")  # Checkout
        assert quote.startswith("Subtotal NGN ")

        again = await ngozi.text("2 indomie chicken")

        assert again.startswith("Please choose a number from the list.\nSubtotal NGN ")
        assert await cart_of(services) == {"DRK-COLA-35": 3}


# --- Twilio SMS and WhatsApp -----------------------------------------------------------------


class TestTwilio:
    @pytest.fixture
    def port(self) -> int:
        return free_port()

    @pytest.fixture
    def settings(self, database_url: str, port: int) -> Settings:
        return twilio_settings(database_url, public_url=f"http://127.0.0.1:{port}")

    @pytest.fixture
    async def twilio(self, services: Services, port: int) -> AsyncIterator[TwilioWebhooks]:
        async with twilio_gateway(services, port) as webhooks:
            yield webhooks

    @pytest.mark.parametrize("kind", ["sms", "whatsapp"])
    async def test_indomie_5_typed_to_the_twilio_number_is_added_on_yes(
        self, twilio: TwilioWebhooks, services: Services, kind: str
    ) -> None:
        ngozi = TwilioChat(twilio, NGOZI.e164, kind="sms" if kind == "sms" else "whatsapp")
        assert await ngozi.send("hi") == MAIN_MENU

        confirm = await ngozi.send("indomie chicken 5")
        assert confirm == "Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?\n1. Yes\n2. No"
        added = await ngozi.send("1")

        assert added.startswith("Added 5 x Indomie Chicken 40x70g.\nCart: 5 items.")
        assert await cart_of(services) == {INDOMIE: 5}
        fits_one_sms(*ngozi.replies)

    @pytest.mark.parametrize("kind", ["sms", "whatsapp"])
    async def test_one_carton_or_none_said_on_twilio(
        self, twilio: TwilioWebhooks, services: Services, kind: str
    ) -> None:
        ngozi = TwilioChat(twilio, NGOZI.e164, kind="sms" if kind == "sms" else "whatsapp")
        confirm = await ngozi.send("an indomie chicken")
        assert confirm == "Add 1 x Indomie Chicken 40x70g (NGN 9,300.00)?\n1. Yes\n2. No"
        await ngozi.send("1")
        assert (await ngozi.send("2")).startswith("Cart (1 item, NGN ")
        how_many = await ngozi.send("spaghetti")
        assert how_many.startswith("Spaghetti 20x500g\nNGN ")
        await ngozi.send("2")

        assert await cart_of(services) == {INDOMIE: 1, "NDL-SPAG-500": 2}
        fits_one_sms(*ngozi.replies)

    @pytest.mark.parametrize("kind", ["sms", "whatsapp"])
    async def test_swahili_words_on_twilio(
        self, twilio: TwilioWebhooks, services: Services, kind: str
    ) -> None:
        juma = TwilioChat(twilio, JUMA.e164, kind="sms" if kind == "sms" else "whatsapp")
        confirm = await juma.send("nataka katoni 4 za mafuta ya alizeti")
        assert confirm.startswith("Ongeza 4 x Sunflower Oil 12x1L (KES ")
        assert confirm.endswith("?\n1. Ndiyo\n2. Hapana")
        await juma.send("1")

        assert await cart_of(services, JUMA) == {"OIL-SUNF-1L": 4}
        fits_one_sms(*juma.replies)


# --- Meta WhatsApp Cloud ---------------------------------------------------------------------


class TestMetaWhatsApp:
    @pytest.fixture
    async def fake_graph(self) -> AsyncIterator[FakeGraphApi]:
        fake = FakeGraphApi()
        await fake.start()
        yield fake
        await fake.close()

    @pytest.fixture
    def settings(self, database_url: str, fake_graph: FakeGraphApi) -> Settings:
        return fake_graph.settings(database_url)

    @pytest.fixture
    async def ngozi(
        self, client: Client, services: Services, fake_graph: FakeGraphApi, clock: SteppedClock
    ) -> WhatsAppUser:
        await services.delivery.stop()
        return WhatsAppUser(
            client,
            fake_graph,
            flush=services.delivery.send_due,
            now=lambda: int(clock.now().timestamp()),
            number=NGOZI.e164,
        )

    async def test_typed_order_gets_yes_no_buttons_and_yes_adds_it(
        self, ngozi: WhatsAppUser, services: Services
    ) -> None:
        confirm = await ngozi.say("Please send 5 cartons of Indomie Chicken")
        assert confirm.text == "Add 5 x Indomie Chicken 40x70g (NGN 46,500.00)?"
        assert confirm.body["interactive"]["type"] == "button"
        assert [c["title"] for c in confirm.choices] == ["Yes", "No"]
        assert await cart_of(services) == {}

        added = await ngozi.tap("Yes")

        assert added.text == "Added 5 x Indomie Chicken 40x70g.\nCart: 5 items."
        assert await cart_of(services) == {INDOMIE: 5}

    async def test_several_matches_are_a_list_within_metas_limits(
        self, ngozi: WhatsAppUser, services: Services
    ) -> None:
        await ngozi.say("hi")
        pick = await ngozi.say("4 oil")
        assert pick.text == 'Which one for 4 x "oil"?'
        assert pick.body["interactive"]["type"] == "list"
        titles = [c["title"] for c in pick.choices]
        assert len(titles) == 5  # four oils and Back
        confirm = await ngozi.tap("Palm Oil")
        assert confirm.text.startswith("Add 4 x Palm Oil 4x5L (NGN ")
        await ngozi.tap("Yes")
        assert await cart_of(services) == {"OIL-PALM-5L": 4}

    async def test_a_product_named_without_a_quantity_asks_how_many(
        self, ngozi: WhatsAppUser, services: Services
    ) -> None:
        await ngozi.say("hi")
        how_many = await ngozi.say("Cola")
        assert how_many.text.startswith("Cola 24x35cl\nNGN ")
        assert "\nEnter quantity:" in how_many.text
        added = await ngozi.say("6")
        assert added.text.startswith("Added 6 x Cola 24x35cl.")
        assert await cart_of(services) == {"DRK-COLA-35": 6}

    async def test_swahili_words_on_meta(
        self,
        client: Client,
        services: Services,
        fake_graph: FakeGraphApi,
        clock: SteppedClock,
    ) -> None:
        await services.delivery.stop()
        juma = WhatsAppUser(
            client,
            fake_graph,
            flush=services.delivery.send_due,
            now=lambda: int(clock.now().timestamp()),
            number=JUMA.e164,
        )
        confirm = await juma.say("Nataka mfuko 1 wa unga wa ngano")
        assert confirm.text.startswith("Ongeza 1 x Wheat Flour 10kg (KES ")
        assert [c["title"] for c in confirm.choices] == ["Ndiyo", "Hapana"]
        await juma.tap("Ndiyo")
        assert await cart_of(services, JUMA) == {"GRN-WHEA-10K": 1}
