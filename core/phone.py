"""E.164 phone numbers, parsed and validated with Google's libphonenumber rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers


class InvalidPhoneError(ValueError):
    """Not a valid phone number."""


@dataclass(frozen=True, slots=True, order=True)
class Phone:
    """A valid number in E.164 form ('+2348030000001'); the only way phones travel inside."""

    e164: str

    @classmethod
    def parse(cls, raw: str, default_region: str | None = None) -> Phone:
        return cls(_parse_e164(raw, default_region))

    @property
    def country(self) -> str:
        """ISO 3166 alpha-2 country of the number ('NG')."""
        return _country_of(self.e164)

    @property
    def digits(self) -> str:
        """The number without '+', as Meta and Daraja want it."""
        return self.e164[1:]

    def __str__(self) -> str:
        return self.e164


@lru_cache(maxsize=65536)
def _parse_e164(raw: str, default_region: str | None) -> str:
    """Every request parses its caller's number, and the answer never changes: remembered.

    Only valid numbers are remembered (a refusal raises), so junk input cannot fill the cache.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneError("the phone number is empty")
    if default_region is None and not text.startswith("+"):
        # Providers such as Meta and Daraja send digits without '+': they are international.
        text = "+" + text
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError(f"{raw!r} is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=65536)
def _country_of(e164: str) -> str:
    """Parsing is slow and a number's country never changes: every screen asks for it."""
    return str(phonenumbers.region_code_for_number(phonenumbers.parse(e164)))
