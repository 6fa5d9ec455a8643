"""Sentences typed in French, Nigerian Pidgin, Hausa, Yoruba and Igbo for what the menu offers
("où est ma commande", "how much I owe", "ina odata", "elo ni mo je", "nyere m aka"): each gets
the screen its keyword answers, in her language, as "where is my order" does in English. Each
message goes in as Africa's Talking's SMS callback; her language is set as the Language menu
sets it."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.i18n import DEFAULT_LOCALE
from core.phone import Phone
from core.sentences import read_sentence
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone

NGOZI = Phone("+2348030000001")

Client = TestClient[web.Request, web.Application]

# (her language, a sentence she types)
STATUS = [
    ("fr", "où est ma commande"),
    ("fr", "Ou est ma commande ?"),
    ("fr", "Quand ma commande arrive-t-elle ?"),
    ("pcm", "Abeg where my order dey?"),
    ("pcm", "Wetin happen to my order?"),
    ("pcm", "how far my goods"),
    ("pcm", "my order never land"),
]
BALANCE = [
    ("fr", "combien je dois"),
    ("fr", "Je dois combien ?"),
    ("pcm", "how much I owe"),
    ("pcm", "How much I never pay?"),
]
HELP = [
    ("fr", "aidez-moi"),
    ("fr", "Je veux parler à quelqu'un"),
    ("pcm", "abeg help me"),
    ("pcm", "I get wahala"),
    ("pcm", "make una call me abeg"),
]
MENU = [("fr", "le menu svp"), ("pcm", "abeg show me the menu")]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def ngozi(client: Client, services: Services, fake_at: FakeAfricasTalking) -> SmsPhone:
    await services.delivery.stop()
    return SmsPhone(client, services, fake_at, NGOZI.e164)


@pytest.mark.parametrize(("locale", "sentence"), STATUS)
async def test_where_is_my_order_in_her_language_lists_her_orders(
    ngozi: SmsPhone, services: Services, locale: str, sentence: str
) -> None:
    await services.customers.set_locale(NGOZI, locale)
    t = services.translate

    answer = await ngozi.text(sentence)

    assert answer == f"{t(locale, 'orders.none')}\n0. {t(locale, 'nav.back')}", answer


@pytest.mark.parametrize(("locale", "sentence"), BALANCE)
async def test_how_much_do_i_owe_in_her_language_is_her_balance(
    ngozi: SmsPhone, services: Services, locale: str, sentence: str
) -> None:
    await services.customers.set_locale(NGOZI, locale)
    t = services.translate

    answer = await ngozi.text(sentence)

    assert answer == f"{t(locale, 'balance.none')}\n0. {t(locale, 'nav.back')}", answer


@pytest.mark.parametrize(("locale", "sentence"), HELP)
async def test_help_me_in_her_language_gets_the_help_screen(
    ngozi: SmsPhone, services: Services, locale: str, sentence: str
) -> None:
    await services.customers.set_locale(NGOZI, locale)
    help_keyword = services.translate(locale, "keyword.help").split(",")[0]

    answer = await ngozi.text(sentence)

    assert answer == await ngozi.text(help_keyword)


@pytest.mark.parametrize(("locale", "sentence"), MENU)
async def test_the_menu_in_her_language_goes_to_the_main_menu(
    ngozi: SmsPhone, services: Services, locale: str, sentence: str
) -> None:
    await services.customers.set_locale(NGOZI, locale)
    await ngozi.text("1")  # the categories

    answer = await ngozi.text(sentence)

    assert answer.startswith(services.translate(locale, "main.title")), answer


# (her language, a reply or an order that asks for none of these screens)
NOT_SENTENCES = [
    ("fr", "Oui, pas de problème"),
    ("fr", "D'accord, merci"),
    ("fr", "Non merci"),
    ("fr", "je veux commander 5 cartons indomie chicken"),
    ("fr", "5 cartons indomie ou 2 spaghetti"),
    ("pcm", "No wahala"),
    ("pcm", "Yes abeg"),
    ("pcm", "No o"),
    ("pcm", "Abeg I wan buy 5 carton indomie"),
    ("pcm", "make una send 5 carton indomie"),
]


@pytest.mark.parametrize(("locale", "typed"), NOT_SENTENCES)
def test_a_reply_or_an_order_in_her_language_is_no_sentence(locale: str, typed: str) -> None:
    """Yes/No in words ("pas de problème" is a Yes) and typed orders keep their meaning: a cue
    word is never one a reply or an order needs."""
    assert read_sentence(typed, [locale, DEFAULT_LOCALE]) is None


async def test_a_typed_order_in_her_language_is_still_an_order(
    ngozi: SmsPhone, services: Services
) -> None:
    await services.customers.set_locale(NGOZI, "fr")

    confirm = await ngozi.text("je veux commander 5 cartons indomie chicken")
    added = await ngozi.text("Oui, merci")

    assert added.startswith(
        services.translate("fr", "typed.added", quantity=5, name="Indomie Chicken 40x70g")
    ), (confirm, added)
