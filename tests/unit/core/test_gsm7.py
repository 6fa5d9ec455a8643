"""GSM-7: what a feature phone can show, counted in septets as the network counts them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.gsm7 import NotGsm7Error, gsm7_length, is_gsm7

EXTENSION = "^{}\\[~]|€"


def test_plain_text_costs_one_septet_per_character() -> None:
    text = "Welcome to OmniRoute\n1. Shop\n2. Cart (0)"

    assert gsm7_length(text) == len(text)


def test_basic_table_accents_and_symbols_cost_one() -> None:
    text = "£$¥èéùìòÇØøÅåÄÖÑÜäöñüà§¿¡@ΔΦΓΛΩΠΨΣΘΞÆæßÉ"

    assert gsm7_length(text) == len(text)


@pytest.mark.parametrize("char", list(EXTENSION))
def test_extension_characters_cost_two(char: str) -> None:
    assert gsm7_length(char) == 2
    assert gsm7_length(f"a{char}b") == 4


def test_euro_price_line_counts_escape_septets() -> None:
    assert gsm7_length("Total €12") == len("Total €12") + 1


@pytest.mark.parametrize(
    "text",
    ["₦", "NGN 100 ₦", "Asante 😀", "Ngozi’s order", "Ọjà", "Ṣọ́ọ̀bù", "Привет", "₵5"],
)
def test_non_gsm_characters_are_rejected(text: str) -> None:
    assert not is_gsm7(text)
    with pytest.raises(NotGsm7Error):
        gsm7_length(text)


@given(st.text(alphabet=st.sampled_from(EXTENSION + "abcXYZ019 .,\n"), max_size=60))
def test_length_is_characters_plus_one_per_extension_character(text: str) -> None:
    assert is_gsm7(text)
    assert gsm7_length(text) == len(text) + sum(ch in EXTENSION for ch in text)
