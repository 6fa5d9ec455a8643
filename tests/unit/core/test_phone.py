"""Phone numbers travel inside as E.164; a number's country picks the market that serves it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.phone import InvalidPhoneError, Phone
from core.region import (
    REGIONS,
    RegionCode,
    UnsupportedRegionError,
    region,
    region_for_phone,
)


@pytest.mark.parametrize(
    ("raw", "e164", "country"),
    [
        ("+2348030000001", "+2348030000001", "NG"),
        ("2348030000001", "+2348030000001", "NG"),
        ("+234 803 000 0001", "+2348030000001", "NG"),
        ("  +2348030000001  ", "+2348030000001", "NG"),
        ("+254711000001", "+254711000001", "KE"),
        ("254 711 000 001", "+254711000001", "KE"),
        ("+27821000001", "+27821000001", "ZA"),
        ("27 82 100 0001", "+27821000001", "ZA"),
    ],
)
def test_international_numbers_parse_to_e164_with_or_without_plus(
    raw: str, e164: str, country: str
) -> None:
    phone = Phone.parse(raw)

    assert phone.e164 == e164
    assert str(phone) == e164
    assert phone.country == country
    assert phone.digits == e164[1:]


@pytest.mark.parametrize(
    ("raw", "default_region", "e164"),
    [
        ("0803 000 0001", "NG", "+2348030000001"),
        ("0711000001", "KE", "+254711000001"),
        ("082 100 0001", "ZA", "+27821000001"),
    ],
)
def test_national_numbers_parse_with_a_default_region(
    raw: str, default_region: str, e164: str
) -> None:
    assert Phone.parse(raw, default_region).e164 == e164


def test_digits_are_the_number_without_plus_as_meta_and_daraja_want() -> None:
    assert Phone.parse("+254711000001").digits == "254711000001"


def test_the_same_number_written_differently_is_equal() -> None:
    assert Phone.parse("+234 803 000 0001") == Phone.parse("2348030000001")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "+234",
        "+2348030",  # too short for Nigeria
        "+23480300000011234",  # too long
        "12345",
        "+99912345678",  # no such country code
        "08030000001",  # national form without a region: read as international, invalid
        "+2340000000000",
    ],
)
def test_invalid_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidPhoneError):
        Phone.parse(raw)


def test_invalid_phone_error_is_a_value_error_for_callers_validating_input() -> None:
    with pytest.raises(ValueError, match="not"):
        Phone.parse("abc")


@pytest.mark.parametrize(
    ("number", "code", "currency", "locale", "vat"),
    [
        ("+2348030000001", RegionCode.LAGOS, "NGN", "en", Decimal("0.075")),
        ("+254711000001", RegionCode.NAIROBI, "KES", "sw", Decimal("0.16")),
        ("+27821000001", RegionCode.CAPE_TOWN, "ZAR", "en", Decimal("0.15")),
    ],
)
def test_a_phone_country_picks_region_currency_language_and_vat(
    number: str, code: RegionCode, currency: str, locale: str, vat: Decimal
) -> None:
    market = region_for_phone(Phone.parse(number))

    assert market.code is code
    assert market.currency == currency
    assert market.default_locale == locale
    assert market.vat_rate == vat
    assert region(code) is market
    assert region(code.value) is market


@pytest.mark.parametrize("number", ["+16502530000", "+447400123456", "+256772123456"])
def test_a_phone_from_a_country_we_do_not_serve_is_unsupported(number: str) -> None:
    phone = Phone.parse(number)

    with pytest.raises(UnsupportedRegionError) as excinfo:
        region_for_phone(phone)
    assert phone.country in str(excinfo.value)


def test_every_region_has_a_distinct_country() -> None:
    countries = [r.country for r in REGIONS.values()]

    assert len(countries) == len(set(countries))
