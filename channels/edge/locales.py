"""The language a message is read in before the customer's own choice is known."""

from __future__ import annotations

from core.phone import Phone
from core.region import UnsupportedRegionError, region_for_phone


def locale_hint(phone: Phone) -> str | None:
    """The language of the phone's market, so a first message may be a keyword in it (ACHA);
    None outside the markets served (English is read everywhere)."""
    try:
        return region_for_phone(phone).default_locale
    except UnsupportedRegionError:
        return None
