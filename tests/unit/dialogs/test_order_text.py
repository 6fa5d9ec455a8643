"""Reading an order typed in an SMS or a WhatsApp message, in English and Swahili."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import Translator
from dialogs.shopping.order_text import (
    echoed,
    named_choice,
    read_count,
    read_order,
    read_product_name,
    read_quantity,
    unit_fits,
)

ENGLISH = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
SWAHILI = [
    "moja",
    "mbili",
    "tatu",
    "nne",
    "tano",
    "sita",
    "saba",
    "nane",
    "tisa",
    "kumi",
    *(f"kumi na {unit}" for unit in ["moja", "mbili", "tatu", "nne", "tano"]),
    *(f"kumi na {unit}" for unit in ["sita", "saba", "nane", "tisa"]),
    "ishirini",
]
TEMPLATES = [
    "{n} {product}",
    "{product} {n}",
    "{n} cartons {product}",
    "{n} cartons of {product}",
    "I want {n} cartons of {product}",
    "please send {n} packs of {product}",
    "{product} {n} pcs",
    "nataka katoni {n} za {product}",
    "Nataka {product} {n}",
    "naomba mifuko {n} ya {product}",
    "nipe vipande {n} vya {product}",
]


def spellings(n: int) -> list[str]:
    return [str(n), ENGLISH[n - 1], ENGLISH[n - 1].upper(), SWAHILI[n - 1]]


@given(
    n=st.integers(min_value=1, max_value=20),
    spelling=st.integers(min_value=0, max_value=3),
    template=st.sampled_from(TEMPLATES),
    product=st.sampled_from(["indomie", "Indomie Chicken", "basmati rice", "cola"]),
)
def test_a_quantity_written_any_supported_way_reads_as_the_same_number(
    n: int, spelling: int, template: str, product: str
) -> None:
    text = template.format(n=spellings(n)[spelling], product=product)

    assert [(item.quantity, item.words) for item in read_order(text)] == [(n, product.casefold())]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nataka katoni 5 za Indomie", [(5, "indomie")]),
        ("5 cartons indomie", [(5, "indomie")]),
        ("indomie 5", [(5, "indomie")]),
        ("I want five packs of Indomie Chicken 40x70g", [(5, "indomie chicken 40x70g")]),
        ("3 Vegetable Oil 4x5L", [(3, "vegetable oil 4x5l")]),
        ("5 indomie and 2 spaghetti", [(5, "indomie"), (2, "spaghetti")]),
        ("tano indomie na mbili spaghetti", [(5, "indomie"), (2, "spaghetti")]),
        ("5 indomie, 2 spaghetti, 1 cola", [(5, "indomie"), (2, "spaghetti"), (1, "cola")]),
        ("kumi na mbili indomie", [(12, "indomie")]),
        ("10 chin chin", [(10, "chin chin")]),
        ("indomie x5", [(5, "indomie")]),
        ("5x indomie", [(5, "indomie")]),
        ("2 salt & pepper", [(2, "salt pepper")]),
        ("a carton of indomie", [(1, "indomie")]),
        ("an indomie", [(1, "indomie")]),
        ("one indomie", [(1, "indomie")]),
        ("katoni moja ya indomie", [(1, "indomie")]),
        ("a 5 cartons of indomie", [(5, "indomie")]),  # the number says how many
        ("a carton of indomie and 2 cola", [(1, "indomie"), (2, "cola")]),
        # More than a line holds, however many digits: refused as such, not read as a name.
        ("1234567 indomie", [(1234567, "indomie")]),
        # a greeting or thanks around the order is no part of the product's name
        ("Habari, nataka katoni 5 za cola", [(5, "cola")]),
        ("Habari za asubuhi. Nataka katoni 5 za indomie, asante sana", [(5, "indomie")]),
        ("Hello, I need 5 cartons of cola, thanks", [(5, "cola")]),
        # "I want (to buy)" in Hausa, Yoruba and Igbo, as Nigerians type them
        ("ina son kwali 5 na indomie chicken", [(5, "indomie chicken")]),
        ("mo fe ra paali 5 indomie", [(5, "indomie")]),
        ("achoro m katon 5 indomie", [(5, "indomie")]),
    ],
)
def test_orders_in_english_and_swahili_word_orders(
    text: str, expected: list[tuple[int, str]]
) -> None:
    assert [(item.quantity, item.words) for item in read_order(text)] == expected


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("5 pieces indomie", "piece"),
        ("indomie 5 pcs", "piece"),
        ("nipe vipande 5 vya indomie", "piece"),
        ("I want five packets of indomie", "pack"),
        ("pakiti tano za indomie", "pack"),
        ("nataka mifuko 2 ya mchele", "bag"),
        ("3 bottles of coke", "bottle"),
        ("chupa 6 za soda", "bottle"),
        ("a bag of indomie", "bag"),
        ("5 cartons indomie", "case"),
        ("nataka katoni tano za Indomie", "case"),
        ("katoni 3 za cola", "case"),
        ("5 crates cola", "case"),
        ("2 boxes of indomie", "case"),
        ("5 indomie", None),
        ("2 tea bags", None),  # a word of the name, not beside the quantity
    ],
)
def test_the_unit_word_beside_the_quantity_says_what_is_counted(
    text: str, unit: str | None
) -> None:
    [item] = read_order(text)
    assert item.unit == unit


@pytest.mark.parametrize(
    ("unit", "selling_unit", "fits"),
    [
        (None, "carton", True),
        ("case", "carton", True),
        ("case", "crate", True),  # a "katoni" of cola is its crate
        ("piece", "carton", False),
        ("pack", "carton", False),
        ("bag", "carton", False),
        ("bottle", "crate", False),
        ("bag", "bag", True),
        ("case", "bag", False),
        ("pack", "pack", True),
        ("case", "pack", False),
        ("bale", "bale", True),
        ("tin", "tin", True),
        ("tray", "carton", False),
    ],
)
def test_only_a_count_in_the_products_own_unit_is_read_as_that_many(
    unit: str | None, selling_unit: str, fits: bool
) -> None:
    assert unit_fits(unit, selling_unit) is fits


@pytest.mark.parametrize(
    ("locale_unit", "unit"),
    [
        ("carton", "case"),
        ("katoni", "case"),
        ("bag", "bag"),
        ("mfuko", "bag"),
        ("crate", "case"),
        ("kreti", "case"),
        ("pack", "pack"),
        ("pakiti", "pack"),
        ("bottle", "bottle"),
        ("chupa", "bottle"),
        ("tin", "tin"),
        ("tray", "tray"),
        ("trei", "tray"),
        ("bale", "bale"),
        ("robota", "bale"),
    ],
)
def test_the_unit_a_sold_by_line_names_is_read_back(locale_unit: str, unit: str) -> None:
    """'Sold by the bale' / 'Huuzwa kwa robota': her '2 robota' is then two of them (every
    unit.* word of locales/en and sw but 'kopo', which names tinned milk)."""
    count = read_count(f"{locale_unit} 2")
    assert count is not None
    assert (count.quantity, count.unit) == (2, unit)


def test_a_count_of_seven_digits_is_that_count() -> None:
    assert read_quantity("1000000 cartons") == 1_000_000


def test_a_count_at_the_quantity_prompt_keeps_its_unit() -> None:
    count = read_count("5 pieces")
    assert count is not None
    assert (count.quantity, count.unit) == (5, "piece")
    tano = read_count("tano")
    assert tano is not None
    assert (tano.quantity, tano.unit) == (5, None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hi",
        "Habari",
        "7",  # a key, not an order
        "5 cartons",  # no product
        "indomie",  # no quantity: read_product_name's
        "a dozen indomie",  # 12, not 1
        "5 indomie 3",  # which number is it?
        "0 indomie",
        "2 dozen indomie",  # 24, not 2: a multiplier is not read
        "mia tano indomie",  # 500 in Swahili: beyond the words this reader knows
        "5 kg rice",  # five kilos, not five 25 kg bags
        "mchele kilo 5",
        "3 litres of oil",
        "lita 2 za mafuta",
        "location 6.454100,3.394700",
        "６ indomie",  # full-width digits are no quantity the stock checks can read
    ],
)
def test_what_is_not_an_order_reads_as_nothing(text: str) -> None:
    assert read_order(text) == ()


NAME_TEMPLATES = [
    "{product}",
    "{product} please",
    "I want {product}",
    "cartons of {product}",
    "nataka {product}",
    "naomba {product} tafadhali",
    "nipe katoni za {product}",
]


@given(
    template=st.sampled_from(NAME_TEMPLATES),
    product=st.sampled_from(["indomie", "Indomie Chicken", "mchele", "sukari", "mafuta"]),
)
def test_a_product_named_without_a_quantity_is_its_name_and_no_order(
    template: str, product: str
) -> None:
    text = template.format(product=product)

    assert read_order(text) == ()
    assert read_product_name(text) == product.casefold()


@given(
    template=st.sampled_from(TEMPLATES),
    n=st.integers(min_value=1, max_value=20),
    product=st.sampled_from(["indomie", "cola"]),
)
def test_a_text_with_a_quantity_names_no_product_to_ask_about(
    template: str, n: int, product: str
) -> None:
    assert read_product_name(template.format(n=n, product=product)) is None


@pytest.mark.parametrize(
    "text", ["", "7", "5 cartons", "indomie and cola", "a dozen", "please", "nataka katoni"]
)
def test_what_names_no_single_product_is_no_name(text: str) -> None:
    assert read_product_name(text) is None


@given(
    n=st.integers(min_value=1, max_value=20),
    spelling=st.integers(min_value=0, max_value=3),
    template=st.sampled_from(["{n}", "{n} cartons", "katoni {n}", "{n} pcs please", "nipe {n}"]),
)
def test_a_count_typed_at_the_quantity_prompt_reads_as_that_number(
    n: int, spelling: int, template: str
) -> None:
    assert read_quantity(template.format(n=spellings(n)[spelling])) == n


@pytest.mark.parametrize(
    "text",
    ["", "hi", "a", "an", "5 indomie", "5 3", "2 dozen", "5 kg", "cartons", "tano tatu"],
)
def test_what_is_no_count_at_the_quantity_prompt_reads_as_none(text: str) -> None:
    assert read_quantity(text) is None


@pytest.mark.parametrize(
    ("locale", "text", "named"),
    [
        ("yo", "Gbese", "CREDIT"),
        ("yo", "Mo fe san ni gbese", "CREDIT"),
        ("yo", "elo ni mo je ni gbese", None),  # how much do I owe
        ("yo", "gbese mi", None),  # my debt
        ("ha", "Zan biya a bashi", "CREDIT"),
        ("ha", "nawa ne bashina", None),
        ("ig", "Kwuo n'ugwo", "CREDIT"),
        ("ig", "ugwo m", None),
        ("sw", "nilipe kwa mkopo", "CREDIT"),
        ("sw", "mkopo wangu", None),
        ("sw", "Salio", "ACCOUNT_CREDIT"),  # "Lipa kwa salio lako", not her balance
        ("sw", "nilipe kwa salio", "ACCOUNT_CREDIT"),
        ("sw", "salio langu", None),  # my balance
        ("en", "pay on credit", "CREDIT"),
        ("en", "Pay from your credit", "ACCOUNT_CREDIT"),
        ("en", "how much credit do I have", None),
        ("en", "Pay on delivery", "ON_DELIVERY"),
        ("fr", "je vais payer à crédit", "CREDIT"),
    ],
)
def test_a_payment_option_is_named_by_its_words(
    translator: Translator, locale: str, text: str, named: str | None
) -> None:
    labels = {
        value: translator(locale, f"payment.{value}")
        for value in ("CREDIT", "ACCOUNT_CREDIT", "ON_DELIVERY", "BANK_TRANSFER", "MPESA")
    }
    assert named_choice(text, labels) == named


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        ("indomie chicken supreme", "indomie chicken"),
        ("caviar beluga royale", "caviar beluga royale"),  # exactly 20
        ("supercalifragilisticexpialidocious", "supercalifragilistic"),
    ],
)
def test_an_echo_of_what_she_typed_keeps_whole_words(words: str, shown: str) -> None:
    assert echoed(words, 20) == shown
