"""The markets OmniRoute serves; a phone's country code picks its region, currency and language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.phone import Phone


class RegionCode(StrEnum):
    LAGOS = "lagos"
    NAIROBI = "nairobi"
    CAPE_TOWN = "cape_town"


class UnsupportedRegionError(ValueError):
    """The phone's country is not one OmniRoute serves yet."""


@dataclass(frozen=True, slots=True)
class Region:
    code: RegionCode
    name: str
    country: str
    currency: str
    default_locale: str
    vat_rate: Decimal
    timezone: str


REGIONS: dict[RegionCode, Region] = {
    RegionCode.LAGOS: Region(
        RegionCode.LAGOS, "Lagos", "NG", "NGN", "en", Decimal("0.075"), "Africa/Lagos"
    ),
    RegionCode.NAIROBI: Region(
        RegionCode.NAIROBI, "Nairobi", "KE", "KES", "sw", Decimal("0.16"), "Africa/Nairobi"
    ),
    RegionCode.CAPE_TOWN: Region(
        RegionCode.CAPE_TOWN, "Cape Town", "ZA", "ZAR", "en", Decimal("0.15"), "Africa/Johannesburg"
    ),
}

_BY_COUNTRY = {region.country: region for region in REGIONS.values()}


def region_for_phone(phone: Phone) -> Region:
    try:
        return _BY_COUNTRY[phone.country]
    except KeyError:
        raise UnsupportedRegionError(phone.country) from None


def market_locale(phone: Phone) -> str | None:
    """The language of the phone's market, before the customer has chosen one; None outside
    the markets served."""
    found = _BY_COUNTRY.get(phone.country)
    return found.default_locale if found else None


def region(code: RegionCode | str) -> Region:
    return REGIONS[RegionCode(code)]


def zone(code: RegionCode | str) -> ZoneInfo:
    """The region's time zone: its days ("today", a delivery day, a payout day) run in it."""
    return ZoneInfo(region(code).timezone)


def local_date(code: RegionCode | str, at: datetime) -> date:
    """The region's calendar day at the instant `at` (an aware datetime)."""
    return at.astimezone(zone(code)).date()


def day_bounds(code: RegionCode | str, day: date) -> tuple[datetime, datetime]:
    """The UTC instants the region's `day` starts and ends (local midnight to midnight)."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone(code))
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone(code))
    return start.astimezone(UTC), end.astimezone(UTC)
