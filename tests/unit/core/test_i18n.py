"""Every word a person reads comes from locales/, complete in every language we ship."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from core.app import demo
from core.gsm7 import gsm7_length, is_gsm7
from core.i18n import (
    DEFAULT_LOCALE,
    LANGUAGE_NAME,
    MissingTranslationError,
    Translator,
    locales_dir,
)
from core.region import REGIONS
from engines.orders import OrderStatus, PaymentMethod
from engines.pricing.tables import promotions

ROOT = Path(__file__).resolve().parents[3]
PO_FILES = sorted(locales_dir().glob("*/LC_MESSAGES/omniroute.po"))
LOCALES = [path.parent.parent.name for path in PO_FILES]
OTHER_LOCALES = [locale for locale in LOCALES if locale != DEFAULT_LOCALE]

# Calls that take a message id (turn.t, self._t, translate, Reject, _keywords): the id is the
# first string literal argument, after at most two others such as the locale.
_LITERAL_MSGID = re.compile(
    r"""(?:\bturn\.t|\bself\._t|\b_t|\bt|\btranslate|\bReject|\b_keywords)\(\s*"""
    r"""(?:[^"(),]+(?:"[^"]*")?,\s*){0,2}(f?)"([^"]+)\"""",
)


def _po_messages(locale: str) -> dict[str, str]:
    path = locales_dir() / locale / "LC_MESSAGES" / "omniroute.po"
    with path.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _msgids_in_source() -> tuple[set[str], set[str]]:
    """(literal msgids, f-string prefixes such as 'status.') used by dialogs/ and the pipeline."""
    sources = [*sorted((ROOT / "dialogs").rglob("*.py")), ROOT / "core" / "pipeline.py"]
    sources.append(ROOT / "core" / "intents.py")
    literals: set[str] = set()
    prefixes: set[str] = set()
    for path in sources:
        for is_fstring, text in _LITERAL_MSGID.findall(path.read_text(encoding="utf-8")):
            if is_fstring and "{" in text:
                prefixes.add(text.split("{", 1)[0])
            else:
                literals.add(text)
    return literals, prefixes


def test_english_french_swahili_and_pidgin_ship() -> None:
    assert {DEFAULT_LOCALE, "fr", "sw", "pcm"} <= set(LOCALES)


PLURAL_FORMS = ("zero", "one", "two", "few", "many")


def _is_plural_variant(msgid: str, ids: set[str]) -> bool:
    base, _, form = msgid.rpartition(".")
    return form in PLURAL_FORMS and base in ids


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_every_locale_has_exactly_the_english_message_ids(locale: str) -> None:
    """Plural variants ('cart.body.one') follow each language's grammar: a language whose nouns
    do not change with the number (Swahili's 'bidhaa') needs none, and may add its own."""
    english = set(_po_messages(DEFAULT_LOCALE))
    other = set(_po_messages(locale))

    missing = {m for m in english - other if not _is_plural_variant(m, english)}
    extra = {m for m in other - english if not _is_plural_variant(m, other)}
    assert sorted(missing) == [], f"missing in {locale}"
    assert sorted(extra) == [], f"only in {locale}"


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_variants_keep_their_base_messages_placeholders(locale: str) -> None:
    messages = _po_messages(locale)
    mismatched = {
        msgid: text
        for msgid, text in messages.items()
        if _is_plural_variant(msgid, set(messages))
        and _placeholders(text) != _placeholders(messages[msgid.rpartition(".")[0]])
    }

    assert mismatched == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_no_message_is_empty(locale: str) -> None:
    empty = [msgid for msgid, text in _po_messages(locale).items() if not text.strip()]

    assert empty == []


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_translations_use_the_same_placeholders_as_english(locale: str) -> None:
    english = _po_messages(DEFAULT_LOCALE)
    other = _po_messages(locale)
    mismatched = {
        msgid: (sorted(_placeholders(text)), sorted(_placeholders(other.get(msgid, ""))))
        for msgid, text in english.items()
        if msgid in other or not _is_plural_variant(msgid, set(english))
        if _placeholders(text) != _placeholders(other.get(msgid, ""))
    }

    assert mismatched == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_can_be_shown_on_a_feature_phone(locale: str) -> None:
    not_gsm7 = {msgid: text for msgid, text in _po_messages(locale).items() if not is_gsm7(text)}

    assert not_gsm7 == {}


def test_the_message_id_scan_finds_the_dialog_messages() -> None:
    """Guards the scan itself: if the regex stopped matching, the next test would pass empty."""
    literals, prefixes = _msgids_in_source()

    assert {"main.title", "error.choice", "error.quantity.min", "error.region"} <= literals
    assert {"error.unavailable", "keyword.home", "keyword.back"} <= literals
    assert {"status.", "method.", "unit."} <= prefixes


def test_every_literal_message_id_used_in_the_code_exists_in_english(
    translator: Translator,
) -> None:
    literals, _ = _msgids_in_source()

    assert sorted(literals - translator.message_ids(DEFAULT_LOCALE)) == []


def test_every_f_string_prefix_used_in_the_code_names_english_messages(
    translator: Translator,
) -> None:
    _, prefixes = _msgids_in_source()
    english = translator.message_ids(DEFAULT_LOCALE)

    assert [p for p in sorted(prefixes) if not any(m.startswith(p) for m in english)] == []


@pytest.mark.parametrize("status", list(OrderStatus))
def test_every_order_status_has_words(translator: Translator, status: OrderStatus) -> None:
    assert f"status.{status.value}" in translator.message_ids(DEFAULT_LOCALE)


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_every_payment_method_has_a_menu_label_and_a_phrase(
    translator: Translator, method: PaymentMethod
) -> None:
    english = translator.message_ids(DEFAULT_LOCALE)

    assert f"payment.{method.value}" in english
    assert f"method.{method.value}" in english


def test_every_demo_product_unit_has_words(translator: Translator) -> None:
    units = {product.unit for product in demo.PRODUCTS}

    assert units
    assert (
        sorted(f"unit.{u}" for u in units if f"unit.{u}" not in translator.message_ids("en")) == []
    )


def test_every_demo_promotion_is_named_in_each_language_a_shopper_can_choose() -> None:
    """A Hausa, Yoruba, Igbo or Pidgin shopper saw the demo promotions in English."""
    now = datetime(2026, 1, 5, tzinfo=UTC)
    rows = [row for market in REGIONS.values() for row in demo.rows_for(market, now)[promotions]]
    assert {row["id"].rsplit("-", 1)[0] for row in rows} == set(demo.PROMOTION_NAMES)
    for row in rows:
        names = row["names"]
        assert sorted(names) == sorted(LOCALES), row["id"]
        assert all(is_gsm7(name) for name in names.values()), row["id"]


def test_translator_falls_back_to_english_then_raises_for_unknown_ids() -> None:
    translate = Translator(
        {"en": {"a": "Hello {name}", "b": "Only English"}, "sw": {"a": "Habari {name}"}}
    )

    assert translate("sw", "a", name="Juma") == "Habari Juma"
    assert translate("sw", "b") == "Only English"
    assert translate("yo", "a", name="Ngozi") == "Hello Ngozi"
    with pytest.raises(MissingTranslationError):
        translate("en", "nope")


def test_a_count_of_one_takes_the_singular_where_the_language_has_one() -> None:
    translate = Translator(
        {
            "en": {"cart": "{count} items", "cart.one": "{count} item"},
            "sw": {"cart": "bidhaa {count}"},
        }
    )

    assert translate("en", "cart", count=1) == "1 item"
    assert [translate("en", "cart", count=n) for n in (0, 2, 12)] == [
        "0 items",
        "2 items",
        "12 items",
    ]
    assert translate("sw", "cart", count=1) == "bidhaa 1"
    assert translate("yo", "cart", count=1) == "1 item"


def test_without_a_count_the_messages_only_whole_number_decides() -> None:
    translate = Translator({"en": {"left": "{left} tries left", "left.one": "{left} try left"}})

    assert translate("en", "left", left=1) == "1 try left"
    assert translate("en", "left", left=2) == "2 tries left"
    # two whole numbers and no count: which one would decide is unclear, so the plain text
    assert Translator({"en": {"x": "{a} {b}", "x.one": "one"}})("en", "x", a=1, b=1) == "1 1"


def test_a_driver_with_one_try_left_is_told_so_in_the_singular() -> None:
    translate = Translator.load()

    assert translate("en", "drv.code_wrong", left=1) == "Wrong code. 1 try left."
    assert translate("en", "drv.code_wrong", left=2) == "Wrong code. 2 tries left."
    assert translate("en", "drv.earnings_today", total="NGN 500.00", stops=1) == (
        "Today you earned NGN 500.00 for 1 delivery."
    )


def test_the_operators_incident_alert_names_the_task_as_deliveries_escalated_does() -> None:
    translate = Translator.load()
    fields = {"problem": "x", "driver": "Bayo", "phone": "+2348030000009", "stop": 2}

    assert "task 22224X, stop 2" in translate("en", "sms.driver_incident", task="22224X", **fields)
    assert "kazi 22224X, kituo 2" in translate("sw", "sms.driver_incident", task="22224X", **fields)


def test_the_shipped_cart_lines_say_item_for_one() -> None:
    translate = Translator.load()

    assert translate("en", "cart.body", count=1, total="NGN 9.30") == "Cart (1 item, NGN 9.30):"
    assert translate("en", "cart.body", count=3, total="NGN 27.90") == "Cart (3 items, NGN 27.90):"
    assert translate("sw", "cart.body", count=1, total="KES 9.30") == "Kikapu (bidhaa 1, KES 9.30):"


def test_loaded_catalogues_contain_every_shipped_locale(translator: Translator) -> None:
    assert translator.locales == tuple(sorted(LOCALES))
    assert translator("sw", "nav.back") != translator("en", "nav.back")


def test_the_language_menu_offers_every_shipped_catalogue_in_its_own_name(
    translator: Translator,
) -> None:
    """The catalogues under locales/ decide which languages exist: a new .po file is offered
    without a code change, named as its speakers write it."""
    offered = dict(translator.languages)

    assert sorted(offered) == sorted(LOCALES)
    assert translator.languages[0] == (DEFAULT_LOCALE, "English")
    assert offered["sw"] == "Kiswahili"
    assert all(offered[code] == translator(code, LANGUAGE_NAME) for code in offered)
    assert len(set(offered.values())) == len(offered)


def _catalogue(directory: Path, locale: str, messages: dict[str, str]) -> None:
    folder = directory / locale / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue = Catalog(locale=locale)
    for msgid, text in messages.items():
        catalogue.add(msgid, text)
    with (folder / "omniroute.po").open("wb") as handle:
        write_po(handle, catalogue)


@pytest.fixture
def half_done(tmp_path: Path) -> Translator:
    """English as shipped, Hausa begun (two messages, not yet its own name), no Yoruba."""
    english = _po_messages(DEFAULT_LOCALE)
    _catalogue(tmp_path, DEFAULT_LOCALE, english)
    _catalogue(tmp_path, "ha", {"main.title": "Barka da zuwa OmniRoute", "menu.shop": "Saya"})
    return Translator.load(tmp_path)


def test_a_language_whose_catalogue_is_missing_or_unfinished_reads_english_per_message(
    half_done: Translator,
) -> None:
    assert half_done("ha", "main.title") == "Barka da zuwa OmniRoute"
    assert half_done("ha", "menu.help") == "Help"
    assert half_done("yo", "main.title") == "Welcome to OmniRoute"
    assert half_done("ig", "menu.cart", count=0) == "Cart (0)"


def test_a_message_missing_from_a_catalogue_keeps_englishs_singular(
    half_done: Translator,
) -> None:
    """Read in English, it is English's grammar: not "1 items"."""
    cart = half_done("ha", "cart.body", count=1, total="NGN 9.30")
    added = half_done("pcm", "added.body", quantity=1, name="Indomie", count=1)

    assert cart == "Cart (1 item, NGN 9.30):"
    assert added == "Added 1 x Indomie.\nCart: 1 item."


def test_a_catalogue_that_does_not_name_its_language_is_not_offered(
    half_done: Translator,
) -> None:
    """Under the English fallback it would be listed as a second "English"."""
    assert half_done.supports("ha")
    assert half_done.languages == ((DEFAULT_LOCALE, "English"),)


# Messages sent as one SMS (notices, receipts, the closing text of a conversation), filled with
# values as long as real ones; a placeholder filled by other words (a reason, a payment method)
# takes that language's longest.
ONE_SMS = 160
SMS_PREFIXES = ("sms.", "credit.", "invoice.sms", "credit_note.sms", "stop.", "start.")
SMS_PREFIXES += ("done.", "again.")
SMS_VALUES: dict[str, object] = {
    "reference": "W62ACJ",
    "order": "W62ACJ",
    "amount": "NGN 126,993.25",
    "total": "NGN 126,993.25",
    "owed": "NGN 126,993.25",
    "due": "NGN 126,993.25",
    "left": "NGN 126,993.25",
    "credit": "NGN 126,993.25",
    "paid": "NGN 126,993.25",
    "cash": "NGN 126,993.00",
    "held": "NGN 126,993.25",
    "fee": "NGN 1,350.00",
    "vat": "NGN 11,883.25",
    "receipt": "QKJ4H7X2ZP",
    "number": "INV-000123",
    "invoice": "INV-000123",
    "date": "2026-12-05",
    "days": 30,
    "count": 3,
    "bank": "Providus Bank",
    "account": "9912345678",
    "code": "*737*000*1234#",
    "driver": "Bayo",
    "time": "14:30",
    "minutes": 10,
    "name": "Breakfast",
    "version": 2,
    "newest": 3,
    "phone": "+2348030000009",
    "task": "22224X",
    "stop": 2,
    "position": 2,
    "address": "12 Allen Avenue, Ikeja",
    "orders": "W62ACJ, X7QK2M",
    "asks": "",
}
FILLED_BY = {"reason": "cancel_reason.", "problem": "incident.", "method": "method."}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_message_fits_one_sms(translator: Translator, locale: str) -> None:
    """A longer one is split and charged as two (and a letter outside GSM-7 would make it
    UCS-2, 70 characters a part): what fits in English must fit in every language."""
    longest = {
        field: max(
            (
                translator(locale, m)
                for m in translator.message_ids(DEFAULT_LOCALE)
                if m.startswith(p)
            ),
            key=len,
        )
        for field, p in FILLED_BY.items()
    }
    values = {**SMS_VALUES, **longest, "line": translator(locale, "sms.drivers_line")}
    english = set(translator.message_ids(DEFAULT_LOCALE))
    over = {}
    for msgid in sorted(english):
        if msgid.startswith(SMS_PREFIXES) and not _is_plural_variant(msgid, english):
            text = translator(locale, msgid, **values)
            if gsm7_length(text) > ONE_SMS:
                over[msgid] = text

    assert over == {}


TRANSFER_TEXTS = ("done.bank_transfer", "again.bank_transfer", "done.repay_bank_transfer")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_screen_saying_where_to_transfer_asks_for_the_order_number_as_description(
    translator: Translator, locale: str
) -> None:
    """A transfer is sent to the order its description names (else to whichever order its
    amount covers): at checkout, Pay again and a credit repayment, on USSD and on WhatsApp,
    she is asked to write it, as the order's SMS does."""
    values = {**SMS_VALUES, "reference": "W62ACJ"}
    order_sms = translator(locale, "sms.order_placed_bank_transfer", **values)
    # "…, your own account, description W62ACJ. Reply…": "description W62ACJ"
    asks = order_sms.split("9912345678", 1)[1].split(".", 1)[0].rsplit(",", 1)[1].strip()
    assert "W62ACJ" in asks
    texts = {
        msgid: translator(locale, msgid, **values)
        for base in TRANSFER_TEXTS
        for msgid in (base, f"{base}.whatsapp")
    }

    assert {msgid: text for msgid, text in texts.items() if asks not in text} == {}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W\d_]+", text.casefold()) if len(w) > 2}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_credit_left_after_paying_from_it_is_named_as_her_credit(
    translator: Translator, locale: str
) -> None:
    """'Order W62ACJ placed and paid from your credit: NGN 26,993.25. Credit left: NGN 2,478.74'
    names what is left with the words BAL uses for her account's credit, so she does not read a
    bare 'what remains' as money still to pay (which is how the part-payment text says it)."""
    done = translator(locale, "done.account_credit", reference="W", total="{total}", left="{left}")
    credit_left = done.split("{total}", 1)[1].split("{left}", 1)[0]
    balance = translator(locale, "balance.account_credit", total="")

    assert _words(credit_left) & _words(balance), (credit_left, balance)


# What a native reader expects where a hurried translation read wrong: (language, message,
# values, the words she should read).
NATIVE_WORDING: list[tuple[str, str, dict[str, object], str]] = [
    # "choose another way to pay" to a retailer, as "Ku zabi wata hanyar biya" says it elsewhere
    (
        "ha",
        "error.account_credit_short",
        {"left": "NGN 2,000.00"},
        "Kudin ajiyarku (NGN 2,000.00) bai isa wannan oda ba yanzu. Ku zabi wata hanyar biya.",
    ),
    # "press 0 0 then press hash": the second key is pressed too, as "Sannan danna hash" says
    (
        "ha",
        "voice.press_then_hash",
        {"key": "0 0", "label": "Koma"},
        "Danna 0 0 sannan danna hash don Koma",
    ),
    # Yoruba: "Te 0 0 lehin naa hash" left the hash key without its verb
    (
        "yo",
        "voice.press_then_hash",
        {"key": "0 0", "label": "Pada"},
        "Te 0 0, lehin naa te hash fun Pada",
    ),
    # a phone's key is a "botini" (button); "bokini" is no Yoruba word
    ("yo", "voice.no_key", {}, "A ko gbo botini kankan."),
    # Igbo: "Zigaa ya" is no imperative; "zipu" (send it off) as the closing screen says it
    (
        "ig",
        "sms.order_placed_bank_transfer",
        {
            "reference": "W62ACJ",
            "total": "NGN 26,993.25",
            "bank": "Wema Bank",
            "account": "9930000000",
        },
        "OmniRoute: etinyere oda W62ACJ, ngukota NGN 26,993.25. Zipu ya na Wema Bank 9930000000,"
        " akaunti gi, dee W62ACJ na nkowa. Ziga ONODU maka ozi.",
    ),
    # French: how an order is paid reads "Total …, paiement par M-Pesa"; "Total …, payée avec
    # votre avoir" agreed with no word on the screen
    ("fr", "method.ACCOUNT_CREDIT", {}, "paiement par votre avoir"),
]


@pytest.mark.parametrize(("locale", "msgid", "values", "expected"), NATIVE_WORDING)
def test_the_words_a_native_reader_expects(
    translator: Translator, locale: str, msgid: str, values: dict[str, object], expected: str
) -> None:
    assert translator(locale, msgid, **values) == expected
