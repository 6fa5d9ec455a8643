"""Which product a retailer means by the words she typed: the demo shelf's names."""

from __future__ import annotations

import pytest

from core.app.demo import PRODUCTS
from core.region import RegionCode
from engines.catalogue import Product
from engines.catalogue.matching import match_products

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
        ("caviar", []),
        ("", []),
    ],
)
def test_typed_words_find_the_products_they_name(words: str, names: list[str]) -> None:
    assert [p.name for p in match_products(words, SHELF)] == names
