"""Fit a screen to the user's device: as many options per page as the characters allow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.layout import layout, measure
from core.messages import Capabilities, Option

MORE_KEY = "98"
BACK_KEY = "0"


class ScreenTooLongError(ValueError):
    """A screen whose fixed text alone does not fit: a dialog bug the screen tests catch."""


@dataclass(frozen=True, slots=True)
class Page:
    items: range
    options: tuple[Option, ...]
    has_more: bool


def paginate(
    text: str,
    labels: Sequence[str],
    page: int,
    caps: Capabilities,
    *,
    back_label: str,
    more_label: str,
    offer_back: bool,
) -> Page:
    """The `page`-th page of `labels` under `text`, numbered from 1 on every page.

    Pages are cut greedily from the first, so the same inputs always give the same pages.
    """
    start = 0
    end = 0
    for number in range(page + 1):
        end = _fill(
            text,
            labels,
            start,
            number=number,
            caps=caps,
            back_label=back_label,
            more_label=more_label,
            offer_back=offer_back,
        )
        if number == page or end >= len(labels):
            break
        start = end
    return _page(
        text,
        labels,
        start,
        end,
        caps,
        back_label=back_label,
        more_label=more_label,
        offer_back=offer_back,
    )


def page_from(
    text: str,
    labels: Sequence[str],
    start: int,
    caps: Capabilities,
    *,
    back_label: str,
    more_label: str,
    offer_back: bool,
) -> Page:
    """The page that begins at label `start`: what the user sees when the text above changes
    (a notice or an error line), so the keys are read against the page actually shown."""
    end = _fill(
        text,
        labels,
        start,
        number=1 if start > 0 else 0,
        caps=caps,
        back_label=back_label,
        more_label=more_label,
        offer_back=offer_back,
    )
    return _page(
        text,
        labels,
        start,
        end,
        caps,
        back_label=back_label,
        more_label=more_label,
        offer_back=offer_back,
    )


def _page(
    text: str,
    labels: Sequence[str],
    start: int,
    end: int,
    caps: Capabilities,
    *,
    back_label: str,
    more_label: str,
    offer_back: bool,
) -> Page:
    options = [Option(str(i - start + 1), labels[i]) for i in range(start, end)]
    has_more = end < len(labels)
    if has_more:
        options.append(Option(MORE_KEY, more_label))
    if offer_back or start > 0:
        options.append(Option(BACK_KEY, back_label))
    if measure(layout(text, options), caps) > caps.screen_chars:
        raise ScreenTooLongError(layout(text, options))
    return Page(range(start, end), tuple(options), has_more)


def _fill(
    text: str,
    labels: Sequence[str],
    start: int,
    *,
    number: int,
    caps: Capabilities,
    back_label: str,
    more_label: str,
    offer_back: bool,
) -> int:
    """The end index of a page beginning at `start`.

    On an interactive screen Back and More are rows of the list like the items (Meta: ten
    rows in all), so they count against `max_options` there; typed menus number items only.
    """
    back = offer_back or number > 0
    budget = caps.screen_chars - measure(text, caps)
    if back:
        budget -= measure(f"\n{BACK_KEY}. {back_label}", caps)
    more_cost = measure(f"\n{MORE_KEY}. {more_label}", caps)
    rows = caps.max_options - (1 if caps.interactive and back else 0)
    end = start
    used = 0
    while end < len(labels) and end - start < rows:
        cost = measure(f"\n{end - start + 1}. {labels[end]}", caps)
        last = end + 1 == len(labels)
        if used + cost + (0 if last else more_cost) > budget:
            break
        if caps.interactive and not last and end - start + 1 == rows:
            break  # the More row takes the last one
        used += cost
        end += 1
    if end == start and start < len(labels):
        raise ScreenTooLongError(f"no option fits under: {text!r}")
    return end
