"""The few words only WhatsApp needs, looked up in locales/ like every other word."""

from __future__ import annotations

from collections.abc import Callable

from core.region import REGIONS

LIST_BUTTON = "whatsapp.list_button"
ATTACHMENT = "whatsapp.attachment"
NO_PHONE = "whatsapp.no_phone"


def words(translate: Callable[..., str], locale: str, msgid: str) -> str:
    return translate(locale, msgid)


def locale_of_country(country: str) -> str:
    """The default language of the region in `country` (ISO alpha-2), English elsewhere."""
    for region in REGIONS.values():
        if region.country == country.upper():
            return region.default_locale
    return "en"
