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
from core.clock import SteppedClock
from core.config import Settings
from core.i18n import DEFAULT_LOCALE
from core.phone import Phone
from core.sentences import read_sentence
from tests.support.credit import credit_history
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
    ("ha", "ina odata"),
    ("ha", "Don Allah, ina odar ta?"),
    ("yo", "nibo ni oda mi wa"),
    ("yo", "Igba wo ni oda mi maa de?"),
    ("ig", "ebee ka oda m di"),
    ("ig", "Biko, ebee ka oda m di?"),
]
BALANCE = [
    ("fr", "combien je dois"),
    ("fr", "Je dois combien ?"),
    ("pcm", "how much I owe"),
    ("pcm", "How much I never pay?"),
    ("ha", "nawa nake bi"),
    ("yo", "elo ni mo je"),
    ("ig", "ego ole ka m ji"),
]
HELP = [
    ("fr", "aidez-moi"),
    ("fr", "Je veux parler à quelqu'un"),
    ("pcm", "abeg help me"),
    ("pcm", "I get wahala"),
    ("pcm", "make una call me abeg"),
    ("ha", "Don Allah ina bukatar taimako"),
    ("ha", "ina son magana da mutum"),
    ("yo", "e ran mi lowo"),
    ("yo", "Mo fe ba eniyan soro"),
    ("ig", "nyere m aka"),
    ("ig", "Biko nyere m aka"),
]
MENU = [("fr", "le menu svp"), ("pcm", "abeg show me the menu"), ("ha", "menu"), ("ig", "menu")]


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
    # "ina" is "where" and "I am"; "nawa", "elo ni … je", "ego ole" ask a price
    ("ha", "ina son kwali 5 na indomie"),
    ("ha", "Eh, babu matsala"),
    ("ha", "Toh, don Allah"),
    ("ha", "A'a, na gode"),
    ("ha", "nawa ne indomie"),
    ("yo", "mo fe ra paali 5 indomie"),
    ("yo", "Beeni, ko si isoro"),
    ("yo", "O daa"),
    ("yo", "Rara o, e se"),
    ("yo", "elo ni indomie je"),
    ("ig", "achoro m katon 5 indomie"),
    ("ig", "Ee, o nweghi nsogbu"),
    ("ig", "O di mma"),
    ("ig", "Mba, daalu"),
    ("ig", "ego ole ka indomie di"),
]


@pytest.mark.parametrize(("locale", "typed"), NOT_SENTENCES)
def test_a_reply_or_an_order_in_her_language_is_no_sentence(locale: str, typed: str) -> None:
    """Yes/No in words ("pas de problème" is a Yes) and typed orders keep their meaning: a cue
    word is never one a reply or an order needs."""
    assert read_sentence(typed, [locale, DEFAULT_LOCALE]) is None


@pytest.mark.parametrize(
    ("locale", "order", "yes"),
    [
        ("fr", "je veux commander 5 cartons indomie chicken", "Oui, merci"),
        ("pcm", "Abeg I wan buy 5 carton indomie chicken", "Yes abeg"),
        ("ha", "Don Allah kwali 5 indomie chicken", "Toh, don Allah"),
        ("yo", "Jowo paali 5 indomie chicken", "Beeni, e se"),
        ("ig", "Biko katon 5 indomie chicken", "Ee, daalu"),
    ],
)
async def test_a_typed_order_in_her_language_is_still_an_order(
    ngozi: SmsPhone, services: Services, locale: str, order: str, yes: str
) -> None:
    await services.customers.set_locale(NGOZI, locale)

    confirm = await ngozi.text(order)
    added = await ngozi.text(yes)

    assert added.startswith(
        services.translate(locale, "typed.added", quantity=5, name="Indomie Chicken 40x70g")
    ), (confirm, added)


@pytest.mark.parametrize(
    ("locale", "sentence"),
    [
        ("fr", "Où est ma commande W62ACJ ?"),
        ("fr", "SUIVI W62ACJ"),
        ("ha", "HALI W62ACJ"),
        ("ha", "ina odata W62ACJ"),
        ("yo", "IPO W62ACJ"),
        ("yo", "nibo ni oda W62ACJ wa"),
        ("ig", "ONODU W62ACJ"),
        ("ig", "ebee ka oda W62ACJ di"),
    ],
)
async def test_status_naming_a_reference_in_her_language_looks_it_up(
    ngozi: SmsPhone, services: Services, locale: str, sentence: str
) -> None:
    """The confirmation's "Reply STATUS" answered with the reference, in her language's
    keyword or a sentence: no such order of hers, said above the main menu."""
    await services.customers.set_locale(NGOZI, locale)
    t = services.translate

    answer = await ngozi.text(sentence)

    assert answer.startswith(t(locale, "order.not_found", reference="W62ACJ") + "\n"), answer
    assert t(locale, "main.title") in answer, answer


@pytest.mark.parametrize(
    ("locale", "typed", "credit"),
    [("yo", "Mo fe san ni gbese", True), ("ha", "Bashi", True), ("yo", "elo ni mo je", False)],
)
async def test_paying_on_credit_by_its_word_chooses_it_and_a_balance_question_is_still_one(
    ngozi: SmsPhone, services: Services, clock: SteppedClock, locale: str, typed: str, credit: bool
) -> None:
    """Yoruba and Hausa name paying on credit by the word for a debt ("Gbese", "Bashi"), which
    is also the balance keyword: at 'Choose payment', "Bashi" or "Mo fe san ni gbese" (I want
    to pay on credit) opened her balance instead of choosing it. It is her choice there now; a
    question about what she owes ("elo ni mo je") still gets her balance."""
    await credit_history(services, clock, NGOZI.e164)
    await services.customers.set_locale(NGOZI, locale)
    await ngozi.receive()  # those orders' SMS
    t = services.translate
    await ngozi.text("3 paali indomie chicken" if locale == "yo" else "kwali 3 indomie chicken")
    await ngozi.text(t(locale, "typed.yes"))
    await ngozi.text("3")  # checkout
    payment = await ngozi.text("1")  # choose payment
    assert f"\n1. {t(locale, 'payment.CREDIT')} (" in payment, payment

    answer = await ngozi.text(typed)

    if credit:
        body = t(locale, "confirm.body", total="NGN 26,993.25", method=t(locale, "method.CREDIT"))
        assert answer.startswith(body + "\n"), answer
    else:
        assert answer.startswith(t(locale, "balance.none")), answer


async def test_a_product_not_found_is_echoed_in_whole_words(
    ngozi: SmsPhone, services: Services
) -> None:
    """She was told 'Babu kaya mai suna "caviar beluga imperi"': the name cut mid-word."""
    await services.customers.set_locale(NGOZI, "ha")

    answer = await ngozi.text("kwali 5 na caviar beluga imperial")

    assert answer.startswith('Babu kaya mai suna "caviar beluga". Rubuta misali'), answer
