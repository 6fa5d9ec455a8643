"""A Lagos, Kano or Onitsha retailer who reads OmniRoute in Hausa, Yoruba or Igbo answers
"Saka 5 x Indomie…? 1. Eh 2. A'a" with the word, as people text it: "Eh", "Beeni", "Ee".

Each message goes in as Africa's Talking's SMS callback. The language is set on the customer as
the Language menu sets it, so these tests do not depend on which languages the menu lists.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.config import Settings
from core.i18n import DEFAULT_LOCALE, Translator
from core.intents import IntentKind, resolve_command, resolve_intent, yes_no_locales
from core.phone import Phone
from core.region import REGIONS, RegionCode
from tests.support.providers.africastalking import FakeAfricasTalking, SmsPhone

NGOZI = Phone("+2348030000001")
INDOMIE = "NDL-INDO-CHK"

Client = TestClient[web.Request, web.Application]

# (language, what the confirmation ends with, words read as Yes, words read as No)
WORDS = [
    (
        "ha",
        "?\n1. Eh\n2. A'a",
        ["Eh", "eh.", "Toh, don Allah", "Eh na gode", "Na'am"],
        ["A'a", "Aa, na gode", "No"],
    ),
    (
        "yo",
        "?\n1. Beeni\n2. Rara",
        ["Beeni", "beeni!", "Bee ni.", "O daa", "Beeni, e se"],
        ["Rara", "Rara o, e se"],
    ),
    ("ig", "?\n1. Ee\n2. Mba", ["Ee", "ee!", "O di mma", "Ee, daalu", "Eh"], ["Mba", "Mba, daalu"]),
]


@pytest.fixture
def settings(database_url: str, fake_at: FakeAfricasTalking) -> Settings:
    return fake_at.settings(database_url)


@pytest.fixture
async def ngozi(client: Client, services: Services, fake_at: FakeAfricasTalking) -> SmsPhone:
    await services.delivery.stop()
    return SmsPhone(client, services, fake_at, NGOZI.e164)


async def cart_of(services: Services) -> dict[str, int]:
    cart = await services.orders.cart(NGOZI, RegionCode.LAGOS)
    return {line.sku: line.quantity for line in cart.lines}


def yes_cases() -> list[tuple[str, str, str]]:
    return [(locale, ending, word) for locale, ending, yes, _ in WORDS for word in yes]


def no_cases() -> list[tuple[str, str, str]]:
    return [(locale, ending, word) for locale, ending, _, no in WORDS for word in no]


@pytest.mark.parametrize(("locale", "ending", "word"), yes_cases())
async def test_yes_typed_in_her_language_adds_the_typed_order(
    ngozi: SmsPhone, services: Services, locale: str, ending: str, word: str
) -> None:
    await services.customers.set_locale(NGOZI, locale)
    t = services.translate

    confirm = await ngozi.text("5 cartons indomie chicken")
    assert confirm.endswith(ending), confirm
    assert await cart_of(services) == {}

    added = await ngozi.text(word)

    assert added.startswith(t(locale, "typed.added", quantity=5, name="Indomie Chicken 40x70g"))
    assert await cart_of(services) == {INDOMIE: 5}


@pytest.mark.parametrize(("locale", "ending", "word"), no_cases())
async def test_no_typed_in_her_language_changes_nothing(
    ngozi: SmsPhone, services: Services, locale: str, ending: str, word: str
) -> None:
    await services.customers.set_locale(NGOZI, locale)

    confirm = await ngozi.text("5 cartons indomie chicken")
    assert confirm.endswith(ending), confirm

    back = await ngozi.text(word)

    assert back.startswith(services.translate(locale, "main.title")), back
    assert await cart_of(services) == {}


# (language, what she texts, the command it is read as)
COMMANDS = [
    ("ha", "Oda", "order"),
    ("ha", "HALI", "status"),
    ("ha", "Taimako", "help"),
    ("ha", "DAINA", "stop"),
    ("ha", "Fara", "start"),
    ("ha", "Bashi?", "balance"),
    ("yo", "Oda", "order"),
    ("yo", "IPO", "status"),
    ("yo", "Iranlowo", "help"),
    ("yo", "DURO", "stop"),
    ("yo", "Bere", "start"),
    ("yo", "Gbese", "balance"),
    ("ig", "Zuo", "order"),
    ("ig", "ONODU", "status"),
    ("ig", "Enyemaka", "help"),
    ("ig", "KWUSI", "stop"),
    ("ig", "Bido", "start"),
    ("ig", "Ugwo", "balance"),
]


@pytest.mark.parametrize(("locale", "typed", "command"), COMMANDS)
def test_a_keyword_in_her_language_is_read_as_its_command(
    locale: str, typed: str, command: str
) -> None:
    """The words the messages tell her to send ("Tura HALI", "E fi GBESE ranse") work."""
    assert resolve_command(typed, locale, Translator.load()) == command


@pytest.mark.parametrize(
    ("locale", "back", "home"),
    [("ha", "Koma", "Farko"), ("yo", "Pada", "Ibere"), ("ig", "Laghachi", "Mbido")],
)
def test_back_and_home_typed_in_her_language(locale: str, back: str, home: str) -> None:
    translate = Translator.load()

    assert resolve_intent(back, locale, translate).kind is IntentKind.BACK
    assert resolve_intent(home, locale, translate).kind is IntentKind.HOME


# (language, the unit word her screens use for a carton, for a bag)
UNITS = [("ha", "kwali", "buhu"), ("yo", "paali", "apo"), ("ig", "katon", "akpa")]


@pytest.mark.parametrize(("locale", "carton", "bag"), UNITS)
async def test_an_order_typed_in_her_screens_unit_word_is_read(
    ngozi: SmsPhone, services: Services, locale: str, carton: str, bag: str
) -> None:
    """Her quantity screen says "NGN 9,300 kowane kwali" and a wrong unit is answered "Ana
    sayarwa ta kwali: shigar da adadin kwali": "5 kwali" is five cartons, "5 buhu" no count of
    cartons, as "5 cartons" and "5 bags" are in English."""
    await services.customers.set_locale(NGOZI, locale)
    t = services.translate

    confirm = await ngozi.text(f"{carton} 5 indomie chicken")
    assert confirm.startswith(
        t(locale, "typed.confirm", quantity=5, name="Indomie Chicken 40x70g", total="NGN 46,500.00")
    ), confirm

    await ngozi.text("1")
    assert await cart_of(services) == {INDOMIE: 5}

    asked = await ngozi.text("indomie chicken")
    assert "\n" + t(locale, "error.quantity.number") not in asked
    refused = await ngozi.text(f"2 {bag}")
    assert refused.startswith(t(locale, "typed.sold_by", unit=carton)), refused
    added = await ngozi.text(f"2 {carton}")

    assert added.startswith(
        t(locale, "added.body", quantity=2, name="Indomie Chicken 40x70g", count=7)
    ), added
    assert await cart_of(services) == {INDOMIE: 7}


@pytest.mark.parametrize(("word", "adds"), [("Oya", True), ("Ehen!", True), ("No o", False)])
async def test_a_lagos_retailer_on_english_answers_in_pidgin(
    ngozi: SmsPhone, services: Services, word: str, adds: bool
) -> None:
    """Ngozi reads OmniRoute in English, Lagos's default, and answers "Add 5 x Indomie…?
    1. Yes 2. No" as she speaks: "Oya", "Ehen" (yes) or "No o". She was told to choose a
    number; Pidgin's Yes and No are read in Nigeria after hers and English's."""
    t = services.translate
    confirm = await ngozi.text("5 cartons indomie chicken")
    assert confirm.endswith("?\n1. Yes\n2. No"), confirm

    answer = await ngozi.text(word)

    if adds:
        added = t("en", "typed.added", quantity=5, name="Indomie Chicken 40x70g")
        assert answer.startswith(added), answer
        assert await cart_of(services) == {INDOMIE: 5}
    else:
        assert answer.startswith(t("en", "main.title")), answer
        assert await cart_of(services) == {}


@pytest.mark.parametrize(
    ("locale", "word", "adds"),
    [
        ("ha", "A'a!", False),
        ("ha", "A'a.", False),
        ("ha", "A\u2019a!", False),  # as a phone's keyboard types the apostrophe
        ("ha", "A'a, na gode", False),
        ("ha", "Na'am!", True),
        ("fr", "Non !", False),
        ("fr", "D'accord !", True),
        ("fr", "Oui, pas de problème", True),
        ("sw", "Hapana.", False),
        ("en", "No!", False),
        ("yo", "Rara.", False),
        ("ig", "Mba!", False),
        ("pcm", "No o!", False),
    ],
)
async def test_yes_or_no_with_punctuation_is_read_in_every_language(
    ngozi: SmsPhone, services: Services, locale: str, word: str, adds: bool
) -> None:
    """Hausa No with an exclamation mark ("A'a!") answered 'Saka 5 x Indomie…? 1. Eh 2. A'a'
    with the list's choose-a-number notice, though "A'a" alone was read: a word with an
    apostrophe was split at it, and the whole text was compared punctuation and all."""
    await services.customers.set_locale(NGOZI, locale)
    t = services.translate
    await ngozi.text("5 cartons indomie chicken")

    answer = await ngozi.text(word)

    if adds:
        added = t(locale, "typed.added", quantity=5, name="Indomie Chicken 40x70g")
        assert answer.startswith(added), answer
        assert await cart_of(services) == {INDOMIE: 5}
    else:
        assert answer.startswith(t(locale, "main.title")), answer
        assert await cart_of(services) == {}


KINDS = ("order", "status", "balance", "help", "stop", "start", "back", "home", "yes", "no")
# (country, its default language)
MARKETS = sorted({(region.country, region.default_locale) for region in REGIONS.values()})


@pytest.mark.parametrize("locale", [code for code, _name in Translator.load().languages])
@pytest.mark.parametrize(("country", "market"), MARKETS)
def test_no_word_she_may_type_means_two_things(locale: str, country: str, market: str) -> None:
    """A word is read in her chosen language, her market's and English (commands), Back and
    Home in hers, Yes and No in hers, English and her market's (Pidgin in Nigeria): none of
    them may be one thing in one and another in another ("oda" is Order in Hausa, Yoruba and
    Igbo alike; Yes in one language must not be Stop in the next)."""
    translate = Translator.load()
    commands = dict.fromkeys([locale, market, DEFAULT_LOCALE])
    yes_no = yes_no_locales(locale, country)
    meanings: dict[str, set[str]] = {}
    for each in dict.fromkeys([*commands, *yes_no]):
        for kind in KINDS:
            if kind in ("back", "home") and each != locale:
                continue
            if kind in ("yes", "no") and each not in yes_no:
                continue
            if kind not in ("back", "home", "yes", "no") and each not in commands:
                continue
            words = {w.strip().casefold() for w in translate(each, f"keyword.{kind}").split(",")}
            if kind in ("yes", "no"):
                words |= {translate(each, f"typed.{kind}").casefold(), kind}
            for word in words - {""}:
                meanings.setdefault(word, set()).add(kind)

    assert {word: kinds for word, kinds in meanings.items() if len(kinds) > 1} == {}
