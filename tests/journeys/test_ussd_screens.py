"""Every screen of every state, in every language and market, fits one USSD screen.

`UssdPhone` asserts the 182 GSM-7 character limit on every response; these walks make sure every
state of the shopping dialog (and every notice and reason line above one) is actually shown, in
every language the Language menu offers, for each region's currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from core.app import demo
from core.app.bootstrap import Services
from core.clock import SteppedClock
from core.conversation import SessionStore
from core.i18n import Translator
from core.phone import Phone
from core.region import region_for_phone
from dialogs.shopping import ShopServices
from dialogs.shopping.states import shopping_states
from engines.catalogue.tables import stock_levels
from engines.customers.tables import customers
from tests.support.phone import Screen, UssdPhone

PHONES = {"Ngozi": "+2348030000001", "Juma": "+254711000001", "Thandi": "+27821000001"}
# Every language the Language menu offers: every catalogue shipped under locales/.
LANGUAGE_NAMES = Translator.load().languages
LOCALES = tuple(code for code, _name in LANGUAGE_NAMES)
COMBOS = [(who, locale) for who in PHONES for locale in LOCALES]


@dataclass
class RecordingPhone(UssdPhone):
    """A UssdPhone that notes the dialog state behind every screen it is shown."""

    store: SessionStore | None = None
    visited: set[str] = field(default_factory=set)

    async def _send(self) -> Screen:
        screen = await super()._send()
        assert self.store is not None
        session = await self.store.load(self.session_key)
        if session is not None:
            self.visited.add(session.state)
        return screen


async def speaking(
    client: TestClient[object, object], services: Services, who: str, locale: str
) -> tuple[RecordingPhone, dict[str, str]]:
    """The customer's phone, switched to `locale` through the Language menu if need be."""
    phone = RecordingPhone(client, PHONES[who], store=services.store)
    t = services.translate
    words = {key: t(locale, msgid) for key, msgid in WORDS.items()}
    words["balance_keyword"] = t(locale, "keyword.balance").split(",")[0]
    await phone.dial()
    default = region_for_phone(Phone(phone.number)).default_locale
    if default != locale:
        await phone.choose(t(default, "menu.language"))
        await phone.choose(dict(LANGUAGE_NAMES)[locale])
        assert phone.screen.lines[0] == words["language_set"]
        await phone.dial()
    assert phone.screen.text == words["main"]
    return phone, words


WORDS = {
    "main": "main.title",
    "shop": "menu.shop",
    "orders": "menu.orders",
    "language": "menu.language",
    "help": "menu.help",
    "language_set": "language.set",
    "more": "added.more",
    "view": "added.cart",
    "checkout": "cart.checkout",
    "change": "line.change",
    "remove": "line.remove",
    "updated": "cart.updated",
    "removed": "cart.removed",
    "pay": "quote.pay",
    "promo": "quote.promo_code",
    "voucher_prompt": "voucher.prompt",
    "on_delivery": "payment.ON_DELIVERY",
    "confirm": "confirm.yes",
    "cancel": "confirm.no",
    "cancelled": "confirm.cancelled",
    "continue": "resume.continue",
    "lost": "notice.lost",
    "choice": "error.choice",
    "min": "error.quantity.min",
    "number": "error.quantity.number",
    "empty": "cart.empty",
    "none": "orders.none",
    "owe_nothing": "balance.none",
}


@pytest.mark.parametrize(("who", "locale"), COMBOS)
async def test_every_state_fits_a_screen(
    client: TestClient[object, object],
    services: Services,
    clock: SteppedClock,
    who: str,
    locale: str,
) -> None:
    phone, w = await speaking(client, services, who, locale)
    region = region_for_phone(Phone(phone.number)).code

    # Help, My orders (none yet), the empty cart, the language list: and Back from each.
    await phone.choose(w["help"])
    await phone.press("0")
    assert (await phone.choose(w["orders"])).text == w["none"]
    await phone.press("0")
    assert (await phone.press("2")).text == w["empty"]
    await phone.press("0")
    await phone.choose(w["language"])
    await phone.press("0")
    assert (await phone.press(w["balance_keyword"])).text == w["owe_nothing"]
    await phone.press("0")

    # Categories (with a wrong key), products, the quantity prompt (with a reason), added.
    await phone.choose(w["shop"])
    assert (await phone.press("99")).lines[0] == w["choice"]
    await phone.press("1")
    await phone.press("1")
    assert (await phone.press("0")).lines[0] == w["min"]
    await phone.press("6")
    await phone.choose(w["more"])
    await phone.press("2")
    await phone.press("2")

    # The cart, a line, changing it (with a reason), removing another.
    await phone.choose(w["view"])
    await phone.press("2")
    await phone.choose(w["change"])
    assert (await phone.press("abc")).lines[0] == w["number"]
    assert (await phone.press("5")).lines[0] == w["updated"]
    await phone.press("3")
    assert (await phone.choose(w["remove"])).lines[0] == w["removed"]

    # Quote, a promo code (refused, then the demo's WELCOME), payment, confirm, cancel.
    t = services.translate
    await phone.choose(w["checkout"])
    assert (await phone.choose(w["promo"])).text == w["voucher_prompt"]
    assert (await phone.press("nope")).lines[0] == t(locale, "error.voucher.unknown", code="NOPE")
    with_code = await phone.press("welcome")
    code_line = t(locale, "quote.voucher", code="WELCOME", amount="")
    assert any(line.startswith(code_line) for line in with_code.lines), with_code.body
    await phone.choose(w["pay"])
    await phone.choose(w["on_delivery"])
    assert (await phone.choose(w["cancel"])).lines[0] == w["cancelled"]

    # The call drops; the session is lost mid-way, then a new dial offers the cart.
    clock.advance(181)
    assert (await phone.press("1")).lines[0] == w["lost"]
    await phone.dial()
    await phone.choose(w["continue"])
    await phone.choose(w["checkout"])
    await phone.choose(w["pay"])
    await phone.choose(w["on_delivery"])

    # Someone else buys the stock before Confirm: the quote comes back, the line cut to what
    # is left and named.
    async with services.db.transaction() as session:
        await session.execute(
            update(stock_levels)
            .where(stock_levels.c.sku == "NDL-INDO-CHK")
            .values(on_hand=stock_levels.c.reserved + 2)
        )
    stock_changed = await phone.choose(w["confirm"])
    assert stock_changed.kind == "CON"
    assert "Indomie Chicken 40x70g" in stock_changed.lines[0]
    await phone.choose(w["pay"])
    await phone.choose(w["on_delivery"])
    done = await phone.choose(w["confirm"])
    assert done.kind == "END"
    assert len(await services.orders.recent(Phone(phone.number))) == 1
    assert (await services.orders.cart(Phone(phone.number), region)).is_empty

    # My orders with an order in it, and what is owed on it.
    await phone.dial()
    assert len((await phone.choose(w["orders"])).lines) >= 2
    await phone.press("0")
    assert (await phone.press(w["balance_keyword"])).text != w["owe_nothing"]

    shop = ShopServices(services.catalogue, services.pricing, services.orders, services.customers)
    # each credit of a long balance (only with credit lines, which this gateway has not):
    # test_every_balance_screen_fits_with_many_credits_in_naira walks it; an order typed in
    # words is read on SMS and WhatsApp only: test_typed_order.py fits those screens to an SMS;
    # so is a sentence asking for one order by its reference (test_typed_sentences.py)
    typed = {"typed_pick", "typed_confirm", "order"}
    assert phone.visited == {s.name for s in shopping_states(shop)} - {"balance_credits", *typed}


@pytest.mark.parametrize("locale", LOCALES)
async def test_closing_screen_for_an_unsupported_country_fits(
    client: TestClient[object, object], services: Services, locale: str
) -> None:
    foreign = "+12025550123"
    if locale != "en":
        # A foreign number only has a language when someone recorded one for it.
        async with services.db.transaction() as session:
            await session.execute(
                customers.insert().values(
                    phone=foreign,
                    region="lagos",
                    name=None,
                    locale=locale,
                    created_at=services.clock.now(),
                )
            )
    screen = await UssdPhone(client, foreign).dial()

    assert screen.kind == "END"
    assert screen.body == services.translate(locale, "error.region")


@pytest.mark.parametrize(("who", "locale"), COMBOS)
async def test_every_product_list_prompt_and_a_full_cart_fit(
    client: TestClient[object, object], services: Services, who: str, locale: str
) -> None:
    phone, w = await speaking(client, services, who, locale)
    region = region_for_phone(Phone(phone.number)).code
    categories = await services.catalogue.categories(region)
    shelf = [await services.catalogue.products(region, c.id) for c in categories]

    for position, products in enumerate(shelf, start=1):
        for product in products:
            await phone.press("00")
            await phone.choose(w["shop"])
            await phone.press(str(position))
            for _page in range(len(products)):
                if any(product.name in label for label in phone.screen.labels):
                    break
                await phone.press("98")
            prompt = await phone.choose(product.name)
            assert prompt.lines[0] == product.name
            assert (await phone.press("0")).lines[0] == w["min"]
            await phone.press("1")

    # The full cart pages like any list, every line once; its quote still fits.
    everything = [product for products in shelf for product in products]
    cart = await services.orders.cart(Phone(phone.number), region)
    assert cart.item_count == len(everything)
    await phone.press("00")
    await phone.press("2")
    pages = await phone.page_through()
    assert all(("98", services.translate(locale, "nav.more")) in p.options for p in pages[:-1])
    listed = [label for page in pages for key, label in page.options if key not in {"0", "98"}]
    t = services.translate
    assert listed == [w["checkout"]] + [
        t(locale, "cart.line", quantity=1, name=product.name) for product in everything
    ]
    await phone.press("00")
    await phone.press("2")
    await phone.choose(w["checkout"])
    assert (await phone.choose(w["pay"])).kind == "CON"


@pytest.mark.parametrize("locale", ["ha", "yo", "ig"])
async def test_a_customer_whose_language_has_no_catalogue_yet_is_served_in_english_per_message(
    client: TestClient[object, object], services: Services, locale: str
) -> None:
    """Hausa, Yoruba and Igbo come as catalogues of their own: until one is shipped (or while
    it is unfinished), a customer recorded in it reads each missing message in English."""
    number = "+2348030000077"
    async with services.db.transaction() as session:
        await session.execute(
            customers.insert().values(
                phone=number,
                region="lagos",
                name=None,
                locale=locale,
                created_at=services.clock.now(),
            )
        )
    phone = UssdPhone(client, number)
    t = services.translate

    main = await phone.dial()
    assert main.kind == "CON"
    assert main.text == t(locale, "main.title")
    assert main.labels[0] == t(locale, "menu.shop")
    categories = await phone.press("1")
    assert categories.text == t(locale, "categories.title")


async def test_the_language_menu_names_each_language_in_its_own_words_on_one_screen(
    client: TestClient[object, object], services: Services
) -> None:
    phone = UssdPhone(client, PHONES["Ngozi"])
    await phone.dial()

    menu = await phone.choose("Language")

    assert menu.kind == "CON"
    assert menu.text == "Choose your language:"
    assert menu.labels[: len(LANGUAGE_NAMES)] == [name for _code, name in LANGUAGE_NAMES]
    assert {"English", "Francais", "Kiswahili", "Pidgin"} <= set(menu.labels)
    assert menu.labels[:2] == ["English", "Francais"]


@pytest.mark.parametrize(
    ("name", "locale", "changed", "welcome"),
    [
        ("Francais", "fr", "Langue changée.", "Bienvenue chez OmniRoute"),
        ("Pidgin", "pcm", "Language don change.", "Welcome to OmniRoute"),
    ],
)
async def test_a_language_chosen_sticks_to_her_and_her_next_dial_speaks_it(
    client: TestClient[object, object],
    services: Services,
    name: str,
    locale: str,
    changed: str,
    welcome: str,
) -> None:
    phone = UssdPhone(client, PHONES["Ngozi"])
    await phone.dial()
    await phone.choose("Language")

    assert (await phone.choose(name)).lines[0] == changed
    customer = await services.customers.get(Phone(PHONES["Ngozi"]))
    assert customer is not None
    assert customer.locale == locale
    again = await UssdPhone(client, PHONES["Ngozi"]).dial()
    assert again.text == welcome
    assert again.labels[0] == services.translate(locale, "menu.shop")


@pytest.mark.parametrize(
    ("locale", "first_aisles"),
    [
        ("ha", ["Taliya da Indomie", "Shinkafa da Hatsi", "Man Girki"]),
        ("yo", ["Indomie ati Pasita", "Iresi ati Oka", "Epo Idana"]),
        ("ig", ["Indomie na Pasta", "Osikapa na Mkpuru", "Mmanu Esi Nri"]),
    ],
)
async def test_a_lagos_retailer_reads_the_aisles_in_her_language(
    client: TestClient[object, object],
    services: Services,
    locale: str,
    first_aisles: list[str],
) -> None:
    """Hausa, Yoruba and Igbo screens listed the demo's aisles in English ('Ku zabi rukuni:'
    above 'Noodles & Pasta, Rice & Grains…'), as French ones did before they had names."""
    phone, w = await speaking(client, services, "Ngozi", locale)

    aisles = await phone.choose(w["shop"])

    assert aisles.labels[:3] == first_aisles
    english = {en for _cid, en, _sw, _fr in demo.CATEGORIES}
    assert english.isdisjoint(aisles.labels), aisles.body
