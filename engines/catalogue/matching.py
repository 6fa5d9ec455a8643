"""Which products a retailer means by the words she typed ("indomie chiken"): fuzzy matching of
the region's product names, so a typo or a shortened name still finds the product."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rapidfuzz import fuzz, utils

from engines.catalogue.model import Product

CLOSE_ENOUGH = 75.0  # below this score a name is not what she meant
TIE = 5.0  # names within this of the best one are as likely as it: she is asked which
# A word shorter than this, one letter off a product's word, is as likely another word she
# meant ("sawa", OK, is one letter from "dawa" of "dawa ya meno"; "price" from "rice"): it
# must be spelled right to name a product on its own.
TYPO_MIN_LETTERS = 5


def match_products(
    words: str,
    products: Iterable[Product],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> list[Product]:
    """The products `words` name, best first: one when it is clear, the few equally close ones
    when it is not ("rice": both rices), none when nothing is close. A product is as close as
    the closest of its name and its `aliases` (by sku: "mchele" for a rice)."""
    typed = utils.default_process(words).split()
    if not typed:
        return []
    products = list(products)
    other = aliases or {}
    scores = {
        p.sku: max(name_score(typed, name) for name in (p.name, *other.get(p.sku, ())))
        for p in products
    }
    by_sku = {p.sku: p for p in products}
    close = {sku: score for sku, score in scores.items() if score >= CLOSE_ENOUGH}
    if not close:
        return []
    best = max(close.values())
    found = [by_sku[sku] for sku, score in close.items() if score >= best - TIE]
    return sorted(found, key=lambda p: (-scores[p.sku], p.name, p.sku))


def name_score(typed: list[str], name: str) -> float:
    """How well each typed word matches a word of the name, on average (0-100). Word by word,
    so "oil" is no part of "Toilet Tissue", while "spagheti" is still "Spaghetti"."""
    words = utils.default_process(name).split()
    if not words:
        return 0.0
    return sum(max(word_score(t, w) for w in words) for t in typed) / len(typed)


def word_score(typed: str, word: str) -> float:
    """How close one typed word is to one word of a name (0-100); a short word not spelled as
    the name's scores below CLOSE_ENOUGH, so it cannot name a product alone."""
    score = fuzz.ratio(typed, word)
    if typed == word or min(len(typed), len(word)) >= TYPO_MIN_LETTERS:
        return score
    return min(score, CLOSE_ENOUGH - 1)
