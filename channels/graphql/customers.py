"""The customer as GraphQL sees it: an E.164 phone that picks the region and currency."""

from __future__ import annotations

from core.phone import InvalidPhoneError, Phone
from core.region import Region, UnsupportedRegionError, region_for_phone
from engines.access import Principal


class BadCustomerError(ValueError):
    """Not an E.164 number of a region OmniRoute serves."""


def customer_of(raw: str) -> tuple[Phone, Region]:
    if not raw.startswith("+"):
        raise BadCustomerError(f"{raw!r}: give the customer's phone in E.164 (+2348030000001)")
    try:
        phone = Phone.parse(raw)
        return phone, region_for_phone(phone)
    except InvalidPhoneError as exc:
        raise BadCustomerError(str(exc)) from exc
    except UnsupportedRegionError as exc:
        raise BadCustomerError(f"{raw}: OmniRoute does not serve this country yet") from exc


def home_region(principal: Principal | None) -> Region | None:
    """The signed-in customer's (or driver's) region, from their phone."""
    if principal is None or not principal.subject.startswith("+"):
        return None
    try:
        return customer_of(principal.subject)[1]
    except BadCustomerError:
        return None
