"""Paging a list to a 182-character USSD screen: every option reachable, no screen too long."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.gsm7 import gsm7_length
from core.layout import layout
from core.messages import USSD_CAPABILITIES, Capabilities, Option
from dialogs.paging import BACK_KEY, MORE_KEY, Page, ScreenTooLongError, paginate

TITLE = "Noodles:"
PRODUCTS = [f"Product number {n} NGN 8,500" for n in range(1, 15)]


def page_of(
    labels: Sequence[str],
    number: int,
    *,
    text: str = TITLE,
    offer_back: bool = False,
    caps: Capabilities = USSD_CAPABILITIES,
) -> Page:
    return paginate(
        text, labels, number, caps, back_label="Back", more_label="More", offer_back=offer_back
    )


def all_pages(labels: Sequence[str], *, text: str = TITLE, offer_back: bool = False) -> list[Page]:
    pages = [page_of(labels, 0, text=text, offer_back=offer_back)]
    while pages[-1].has_more:
        assert len(pages) <= len(labels), "paging does not advance"
        pages.append(page_of(labels, len(pages), text=text, offer_back=offer_back))
    return pages


def keys(page: Page) -> list[str]:
    return [option.key for option in page.options]


def shown_labels(page: Page) -> list[str]:
    return [o.label for o in page.options if o.key not in {MORE_KEY, BACK_KEY}]


def test_a_short_list_fits_one_page_without_more() -> None:
    page = page_of(["Shop", "Cart (0)", "My orders", "Language", "Help"], 0)

    assert keys(page) == ["1", "2", "3", "4", "5"]
    assert not page.has_more


def test_a_short_list_offers_back_when_the_screen_has_one() -> None:
    page = page_of(["Shop", "Cart (0)"], 0, offer_back=True)

    assert page.options[-1] == Option(BACK_KEY, "Back")


def test_a_long_list_is_split_with_more_on_all_but_the_last_page() -> None:
    pages = all_pages(PRODUCTS)

    assert len(pages) > 1
    for page in pages[:-1]:
        assert page.has_more
        assert Option(MORE_KEY, "More") in page.options
    assert not pages[-1].has_more
    assert MORE_KEY not in keys(pages[-1])


def test_numbering_restarts_at_one_on_every_page() -> None:
    for page in all_pages(PRODUCTS):
        numbered = [k for k in keys(page) if k not in {MORE_KEY, BACK_KEY}]
        assert numbered == [str(n) for n in range(1, len(numbered) + 1)]
        assert len(numbered) == len(page.items)


def test_later_pages_offer_back_even_when_the_screen_has_none() -> None:
    first, *later = all_pages(PRODUCTS, offer_back=False)

    assert BACK_KEY not in keys(first)
    assert later
    for page in later:
        assert page.options[-1] == Option(BACK_KEY, "Back")


def test_more_comes_before_back() -> None:
    second = page_of(PRODUCTS, 1)

    assert keys(second)[-2:] == [MORE_KEY, BACK_KEY]


def test_no_page_shows_more_options_than_the_device_allows() -> None:
    labels = [f"P{n}" for n in range(30)]

    pages = all_pages(labels)

    assert [len(page.items) for page in pages[:-1]] == [9] * (len(pages) - 1)
    assert sum(len(page.items) for page in pages) == 30


def test_every_page_fits_the_screen() -> None:
    for page in all_pages(PRODUCTS, offer_back=True):
        assert gsm7_length(layout(TITLE, page.options)) <= USSD_CAPABILITIES.screen_chars


def test_extension_characters_count_double_when_filling_a_page() -> None:
    """'€' and '[' take two septets each; a page filled by len() would overflow the screen."""
    labels = ["[€€€€€€€€€€€€€€€€€€€€€€]"] * 8

    for page in all_pages(labels):
        assert gsm7_length(layout(TITLE, page.options)) <= USSD_CAPABILITIES.screen_chars


def test_same_inputs_give_the_same_page() -> None:
    assert page_of(PRODUCTS, 1) == page_of(PRODUCTS, 1)


def test_an_empty_list_shows_only_the_text_and_back() -> None:
    page = page_of([], 0, offer_back=True)

    assert page.options == (Option(BACK_KEY, "Back"),)
    assert not page.has_more


def test_a_label_too_long_for_any_screen_is_an_error() -> None:
    with pytest.raises(ScreenTooLongError):
        page_of(["x" * 180], 0)


def test_a_label_too_long_for_a_later_page_is_an_error() -> None:
    with pytest.raises(ScreenTooLongError):
        all_pages([*PRODUCTS, "y" * 170])


def test_text_too_long_for_the_screen_is_an_error() -> None:
    with pytest.raises(ScreenTooLongError):
        page_of([], 0, text="z" * 183)


_GSM7_LABEL_CHARS = st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-()&'/:%+"
    "£$¥èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà§¿¡@ΔΦΓΛΩΠΨΣΘΞ^{}\\[~]|€"
)
_LABELS = st.lists(st.text(_GSM7_LABEL_CHARS, min_size=1, max_size=40), max_size=60)


@settings(max_examples=200)
@given(labels=_LABELS, offer_back=st.booleans())
def test_pages_cover_every_label_once_in_order_and_fit_the_screen(
    labels: list[str], offer_back: bool
) -> None:
    pages = all_pages(labels, text="Choose a category:", offer_back=offer_back)

    covered = [label for page in pages for label in shown_labels(page)]
    assert covered == labels
    assert [i for page in pages for i in page.items] == list(range(len(labels)))
    for page in pages:
        screen = layout("Choose a category:", page.options)
        assert gsm7_length(screen) <= USSD_CAPABILITIES.screen_chars
        assert len(page.items) <= USSD_CAPABILITIES.max_options
