"""The few words only WhatsApp needs, looked up in locales/ like every other word.

Until locales/ carries these message ids (en and sw texts are proposed in the change that added
this module), the English below stands in, so a missing id is never a failed reply.
"""

from __future__ import annotations

from collections.abc import Callable

from core.i18n import MissingTranslationError
from core.region import REGIONS

LIST_BUTTON = "whatsapp.list_button"
ATTACHMENT = "whatsapp.attachment"
NO_PHONE = "whatsapp.no_phone"

_STAND_INS = {
    LIST_BUTTON: "Choose",
    ATTACHMENT: (
        "Sorry, I can't read pictures, voice notes or files yet. Please type your answer or tap "
        "a choice."
    ),
    NO_PHONE: (
        "Welcome to OmniRoute. Your cart and orders are kept under your phone number, and "
        "WhatsApp has not shared it with us. Please message us from an account that shows its "
        "number, or call 0800 123 456."
    ),
}


def words(translate: Callable[..., str], locale: str, msgid: str) -> str:
    try:
        return translate(locale, msgid)
    except MissingTranslationError:
        return _STAND_INS[msgid]


def locale_of_country(country: str) -> str:
    """The default language of the region in `country` (ISO alpha-2), English elsewhere."""
    for region in REGIONS.values():
        if region.country == country.upper():
            return region.default_locale
    return "en"
