"""Which product a retailer means by the words she typed: the demo shelf's names."""

from __future__ import annotations

import pytest

from core.app.demo import ALIASES, PRODUCTS
from core.region import RegionCode
from engines.catalogue import Product
from engines.catalogue.matching import match_products
from engines.catalogue.service import Shelf

SHELF = [Product(p.sku, RegionCode.LAGOS, p.category, p.name, p.unit) for p in PRODUCTS]


@pytest.mark.parametrize(
    ("words", "names"),
    [
        ("indomie chicken", ["Indomie Chicken 40x70g"]),
        ("indomi chiken", ["Indomie Chicken 40x70g"]),  # typos forgiven
        ("spagheti", ["Spaghetti 20x500g"]),
        ("basmati", ["Basmati Rice 10kg"]),
        ("coca cola", ["Cola 24x35cl"]),
        ("indomie", ["Indomie Chicken 40x70g", "Indomie Onion 40x70g"]),  # she is asked which
        ("rice", ["Basmati Rice 10kg", "Long Grain Rice 25kg"]),
        # word by word: "oil" is no part of "Toilet Tissue"
        (
            "oil",
            ["Groundnut Oil 12x1L", "Palm Oil 4x5L", "Sunflower Oil 12x1L", "Vegetable Oil 4x5L"],
        ),
        ("sugar", ["White Sugar 24x1kg", "White Sugar 50kg"]),
        ("caviar", []),
        ("", []),
    ],
)
def test_typed_words_find_the_products_they_name(words: str, names: list[str]) -> None:
    assert [p.name for p in match_products(words, SHELF)] == names


DEMO_SHELF = Shelf((), {p.sku: p for p in SHELF}, ALIASES)


def aliases_for(locale: str) -> dict[str, tuple[str, ...]]:
    return {p.sku: DEMO_SHELF.names(p.sku, locale) for p in SHELF}


@pytest.mark.parametrize(
    ("words", "names"),
    [
        ("mchele", ["Basmati Rice 10kg", "Long Grain Rice 25kg"]),
        ("mchele basmati", ["Basmati Rice 10kg"]),
        ("unga", ["Maize Flour 10kg", "Wheat Flour 10kg"]),
        ("unga mahindi", ["Maize Flour 10kg"]),
        (
            "mafuta",
            ["Groundnut Oil 12x1L", "Palm Oil 4x5L", "Sunflower Oil 12x1L", "Vegetable Oil 4x5L"],
        ),
        ("mafuta alizeti", ["Sunflower Oil 12x1L"]),
        ("kuku", ["Indomie Chicken 40x70g"]),
        ("indomie kuku", ["Indomie Chicken 40x70g"]),
        ("cooking oil", ["Vegetable Oil 4x5L"]),  # English aliases are read too
        ("sukari", ["White Sugar 24x1kg", "White Sugar 50kg"]),
        ("sukari nyeupe", ["White Sugar 24x1kg", "White Sugar 50kg"]),
        # a short word one letter off a product's word is another word: "sawa" (OK) is no
        # "dawa" (of "dawa ya meno"), "poa" (cool) no "poda", "vipi" (how) no "pipi"
        ("sawa", []),
        ("poa", []),
        ("vipi", []),
        ("oda", []),
        ("pipi", ["Sweets 50 pieces"]),  # spelled right, it names the product
    ],
)
def test_swahili_words_find_products_by_their_aliases(words: str, names: list[str]) -> None:
    assert [p.name for p in match_products(words, SHELF, aliases_for("sw"))] == names


@pytest.mark.parametrize("words", ["mchele", "unga", "mafuta", "kuku"])
def test_swahili_aliases_are_not_read_for_an_english_speaker(words: str) -> None:
    assert match_products(words, SHELF, aliases_for("en")) == []


def test_a_language_with_no_aliases_reads_the_english_ones() -> None:
    assert DEMO_SHELF.names("OIL-VEG-5L", "pcm") == ("cooking oil",)
    assert DEMO_SHELF.names("OIL-VEG-5L", "sw") == (
        "mafuta ya kupikia",
        "mafuta ya mboga",
        "cooking oil",
    )
